import numpy as np
import pytest

from seqzoo.data.files import read_sequences
from seqzoo.errors import SeqzooError


def test_npy_batch_with_nan_padding(tmp_path):
    a = np.random.rand(2, 5, 3).astype(np.float32)
    a[1, 3:] = np.nan
    np.save(tmp_path / "x.npy", a)
    names, seqs = read_sequences(tmp_path / "x.npy")
    assert names == ["x[0]", "x[1]"] and [s.shape for s in seqs] == [(5, 3), (3, 3)]


def test_npz_named_sequences(tmp_path):
    np.savez(tmp_path / "x.npz", first=np.ones((4, 2)), second=np.zeros((7, 2)))
    names, seqs = read_sequences(tmp_path / "x.npz")
    assert names == ["first", "second"] and [s.shape for s in seqs] == [(4, 2), (7, 2)]


def test_csv_with_id_column_and_header(tmp_path):
    (tmp_path / "x.csv").write_text("id,c1,c2\nu1,1,2\nu1,3,4\nu2,5,6\n")
    names, seqs = read_sequences(tmp_path / "x.csv")
    assert names == ["u1", "u2"]
    np.testing.assert_array_equal(seqs[0], [[1, 2], [3, 4]])


def test_csv_without_header_is_one_sequence(tmp_path):
    (tmp_path / "x.csv").write_text("1,2\n3,4\n")
    names, seqs = read_sequences(tmp_path / "x.csv")
    assert names == ["x"] and seqs[0].shape == (2, 2)


def test_text_lines(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n\nworld\n")
    assert read_sequences(tmp_path / "x.txt") == (["line1", "line3"], ["hello", "world"])


@pytest.mark.parametrize(
    "name,content,match", [("x.json", "{}", "use .npy"), ("x.csv", "a,b\n1,oops\n", "non-numeric")]
)
def test_bad_files(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(SeqzooError, match=match):
        read_sequences(tmp_path / name)
    with pytest.raises(SeqzooError, match="does not exist"):
        read_sequences(tmp_path / "missing.npy")
