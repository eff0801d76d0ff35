"""A malformed file gets one message naming the file, the line or item and the problem; numbers must be
finite, or missing where a data set states how it fills them."""

import numpy as np
import pytest

from seqzoo.data.files import read_sequences
from seqzoo.data.parallel_text import read_pairs
from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import UEADataModule
from seqzoo.errors import SeqzooError

TS = "@problemName T\n@classLabel true a b\n@data\n1,2,3:a\n{line}\n"


def test_a_byte_that_is_not_utf8_is_named_by_its_line(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes("Go.\tVa !\nHi.\tSalut !\n".encode() + b"Caf\xe9.\tCaf\xe9.\n")
    with pytest.raises(SeqzooError, match=rf"{path}:3: not UTF-8 text \(byte b'\\xe9' at offset \d+\); convert"):
        read_pairs(path)


@pytest.mark.parametrize(
    "line,words",
    [
        ("1,inf,3:b", r":5: inf at step 1, channel 0"),
        ("1,2:b", None),
        ("1,x,3:b", ":5: not a .ts data line"),
        ("1,2,3", ":5: expected channels of equal length separated by ':' and the label last"),
    ],
)
def test_ts_lines_are_checked_where_they_are(tmp_path, line, words):
    path = tmp_path / "x.ts"
    path.write_text(TS.format(line=line))
    if words is None:
        assert [len(s) for s in read_ts(path)[0]] == [3, 2]  # series of different lengths are fine
    else:
        with pytest.raises(SeqzooError, match=words):
            read_ts(path)


def test_missing_values_are_filled_or_refused_by_the_stated_policy(tmp_path):
    path = tmp_path / "x.ts"
    path.write_text(TS.format(line="1,?,3:b"))
    assert np.isnan(read_ts(path)[0][1][1, 0])
    with pytest.raises(SeqzooError, match=r":5: nan at step 1, channel 0"):
        read_ts(path, missing_allowed=False)
    with pytest.raises(SeqzooError, match="data.missing='drop': choose mean"):
        UEADataModule(missing="drop")


@pytest.mark.parametrize("value,words", [(np.inf, "inf at step 2, channel 1"), (np.nan, "nan at step 2, channel 1")])
def test_predict_inputs_must_be_finite_inside_a_sequence(tmp_path, value, words):
    a = np.ones((2, 5, 2), dtype=np.float32)
    a[1, 2, 1] = value
    np.save(tmp_path / "x.npy", a)
    with pytest.raises(SeqzooError, match=rf"sequence x\[1\]: {words}"):
        read_sequences(tmp_path / "x.npy")
    if np.isnan(value):  # where the model's data set fills missing values, NaN is one
        assert len(read_sequences(tmp_path / "x.npy", missing_allowed=True)[1]) == 2


def test_trailing_all_nan_steps_are_padding_not_missing_values(tmp_path):
    a = np.ones((2, 5, 2), dtype=np.float32)
    a[0, 3:] = np.nan
    np.save(tmp_path / "x.npy", a)
    assert [len(s) for s in read_sequences(tmp_path / "x.npy")[1]] == [3, 5]


def test_a_pickled_npy_is_refused_unopened(tmp_path):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SeqzooError, match=r"cannot read .*x.npy as a NumPy .npy file"):
        read_sequences(tmp_path / "x.npy")


def test_a_ragged_csv_is_named_by_its_line(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(SeqzooError, match=r"x.csv:3: 3 values, the rows before have 2"):
        read_sequences(tmp_path / "x.csv")
