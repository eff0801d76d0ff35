"""Property-based tests of seqzoo-predict's inputs, one per input format (numeric arrays for classifiers,
lines of text for seq2seq): whatever shape, dtype, range, length or encoding a file holds, predict either
writes one row per sequence or stops with seqzoo's own message; the input file is never changed."""

import csv

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, from_dtype

from seqzoo.errors import SeqzooError
from seqzoo.pretrained import resolve
from seqzoo.train import predict
from tests.conftest import make_cfg

FUZZ = settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int8, np.bool_, np.complex64]
SHAPES = array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=12)
# every value a dtype holds (NaN and inf among them), but subnormals: training flushes them in this process
ARRAYS = st.sampled_from(DTYPES).flatmap(
    lambda d: arrays(
        d, SHAPES, elements=from_dtype(np.dtype(d), **({"allow_subnormal": False} if np.dtype(d).kind in "fc" else {}))
    )
)


def run(tmp_path, source: str, given, counter=[0]) -> list[dict] | None:  # noqa: B006 (a run counter for fresh folders)
    """Predict ``given`` with ``source`` (pretrained=<name> or ckpt_path=<file>): the rows written (at least one),
    or None after seqzoo's own message; the input is never changed."""
    counter[0] += 1
    before = open(given, "rb").read()
    try:
        out = predict(resolve(make_cfg(tmp_path / f"p{counter[0]}", [source, f"input={given}"], name="predict")))
    except SeqzooError:
        out = None
    assert open(given, "rb").read() == before  # the input is never changed
    rows = None if out is None else list(csv.DictReader(open(out)))
    assert rows is None or len(rows) >= 1
    return rows


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv"])
def test_numeric_files_of_any_shape_dtype_and_range(tmp_path, suffix):
    @FUZZ
    @given(ARRAYS)
    def check(array):
        path = tmp_path / f"x{suffix}"
        if suffix == ".npy":
            np.save(path, array)
        elif suffix == ".npz":
            np.savez(path, a=array)
        else:
            flat = array.reshape(array.shape[0] if array.ndim else 1, -1) if array.size else array.reshape(0, 0)
            np.savetxt(path, flat.real if np.iscomplexobj(flat) else flat, delimiter=",", fmt="%s")
        run(tmp_path, "pretrained=japanese_vowels_lstm", str(path))

    check()


def test_text_lines_of_any_length_alphabet_and_encoding(tmp_path):
    @FUZZ
    @given(
        st.lists(st.text(max_size=300), min_size=0, max_size=5),
        st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]),
    )
    def check(lines, encoding):
        path = tmp_path / "x.txt"
        try:
            path.write_bytes("\n".join(lines).encode(encoding))
        except UnicodeEncodeError:
            return  # text this encoding cannot hold
        run(tmp_path, "pretrained=reverse_lstm", str(path))

    check()


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    from seqzoo.train import train
    from tests.data.fixtures import data_overrides

    root = tmp_path_factory.mktemp("forecaster")
    train(
        make_cfg(
            root / "run",
            [
                "task=forecast",
                "data=series",
                *data_overrides("series", root),
                "model.hidden_size=8",
                "debug=limit",
                "logger=csv",
            ],
        )
    )
    return root / "run" / "checkpoints" / "last.ckpt", root / "sales.csv"


def test_series_histories_with_any_damage(tmp_path, forecaster):
    """A forecaster's history file (the training file's columns): rows dropped, repeated or shuffled, cells
    emptied or replaced by words, NaN or huge numbers, ids blanked, times garbled."""
    import pandas as pd

    ckpt, source = forecaster
    frame = pd.read_csv(source)
    parts = [g.iloc[:67].copy() for _, g in frame.groupby("store")]  # 60 days of each store, then 7 to forecast
    for part in parts:
        part.loc[part.index[60:], "sales"] = np.nan  # the price is known ahead, the sales are not
    history = pd.concat(parts)
    answered = []
    cells = st.sampled_from(["", "abc", "nan", "1e300", "-1e300", "inf", "2024-13-45", "0"])

    @FUZZ
    @given(
        st.lists(
            st.tuples(st.integers(0, len(history) - 1), st.sampled_from(list(history.columns)), cells), max_size=4
        ),
        st.sampled_from(["keep", "drop_rows", "repeat_rows", "shuffle"]),
        st.integers(0, 2**31 - 1),
    )
    def check(edits, rows, seed):
        damaged = history.astype(str).reset_index(drop=True)
        for row, column, cell in edits:
            damaged.loc[row, column] = cell
        rng = np.random.default_rng(seed)
        if rows == "drop_rows":
            damaged = damaged.drop(index=rng.choice(len(damaged), 5, replace=False))
        elif rows == "repeat_rows":
            damaged = pd.concat([damaged, damaged.iloc[:3]])
        elif rows == "shuffle":
            damaged = damaged.sample(frac=1, random_state=seed)
        path = tmp_path / "history.csv"
        damaged.to_csv(path, index=False)
        if run(tmp_path, f"ckpt_path={ckpt}", path) is not None:
            answered.append(path)

    check()
    assert answered  # some damage leaves a file it can still forecast from


def test_image_arrays_for_a_captioner(tmp_path):
    """One-to-many: the digits captioner reads (N, 8, 8) images from the same numeric files."""

    @FUZZ
    @given(ARRAYS)
    def check(array):
        np.save(tmp_path / "images.npy", array)
        run(tmp_path, "pretrained=digits_caption_gru", str(tmp_path / "images.npy"))

    check()


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    from seqzoo.train import train
    from tests.data.fixtures import speech_commands_root

    root = tmp_path_factory.mktemp("speech")
    data = speech_commands_root(root / "data")
    train(
        make_cfg(
            root / "run",
            [
                "data=speech_commands",
                f"data.root={data}",
                "data.num_workers=0",
                "data.batch_size=4",
                "model.hidden_size=8",
                "trainer.max_epochs=1",
                "logger=csv",
            ],
        )
    )
    return root / "run" / "checkpoints" / "last.ckpt"


def test_wav_files_of_any_rate_channels_length_and_damage(tmp_path, listener):
    import soundfile

    @FUZZ
    @given(
        st.integers(0, 24000),
        st.sampled_from([8000, 16000, 44100]),
        st.integers(1, 3),
        st.sampled_from(["PCM_16", "FLOAT", "PCM_U8"]),
        st.sampled_from(["whole", "truncated", "garbage"]),
        st.integers(0, 2**31 - 1),
    )
    def check(samples, rate, channels, subtype, damage, seed):
        path = tmp_path / "clip.wav"
        wave = np.random.default_rng(seed).uniform(-1, 1, (samples, channels))
        soundfile.write(path, wave, rate, subtype=subtype)
        if damage == "truncated":
            path.write_bytes(path.read_bytes()[: max(1, len(path.read_bytes()) // 3)])
        elif damage == "garbage":
            path.write_bytes(np.random.default_rng(seed).bytes(200))
        rows = run(tmp_path, f"ckpt_path={listener}", path)
        assert rows is None or len(rows) == 1  # one clip, one row

    check()
