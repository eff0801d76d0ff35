"""Fuzzing every file reader: valid files, then truncated, with bytes overwritten, inserted or deleted, lines
dropped or repeated, numbers replaced by NaN, inf or garbage. Whatever comes in, only a ``SeqzooError`` (one
message naming the file) may come out: never another exception, never a hang.

Bounded for CI: ``CASES`` examples per reader, derandomised, so a run is repeatable and takes seconds.
"""

import io
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqzoo.data.char_lm import CharLMDataModule
from seqzoo.data.conll import read_conll
from seqzoo.data.files import read_sequences
from seqzoo.data.flickr8k import Flickr8kDataModule, read_captions
from seqzoo.data.g2p_cmudict import read_cmudict
from seqzoo.data.parallel_text import read_pairs
from seqzoo.data.speech_commands import read_wav
from seqzoo.data.ts_format import read_ts
from seqzoo.errors import SeqzooError

CASES = 60
FUZZ = settings(
    max_examples=CASES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


def wav_bytes() -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.sin(np.arange(800) / 5).astype(np.float32), 16000, format="WAV")
    return buffer.getvalue()


def npy_bytes(npz: bool = False) -> bytes:
    buffer, a = io.BytesIO(), np.random.default_rng(0).normal(size=(3, 7, 2)).astype(np.float32)
    np.savez(buffer, first=a[0], batch=a) if npz else np.save(buffer, a)
    return buffer.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


TS = b"""# a comment
@problemName Tiny
@univariate false
@dimensions 2
@classLabel true a b
@data
1.0,2.0,3.0:0.5,?,1.5:a
2.0,1.0,0.0:1.5,2.5,0.5:b
0.1,0.2,0.3,0.4:1,2,3,4:a
"""
CONLL = (
    b"-DOCSTART- -X- O\n\nthe DT B-NP O\ncat NN I-NP B-ANIMAL\n\na DT B-NP O\ndog NN I-NP B-ANIMAL\nran VBD B-VP O\n"
)
PAIRS = b"Go.\tVa !\tCC-BY 2.0\nHi.\tSalut !\tCC-BY 2.0\nRun!\tCours !\tCC-BY 2.0\n"
CMUDICT = b"hello HH AH0 L OW1\nworld W ER1 L D\nworld(2) W ER1 L\nread R IY1 D # a comment\n"
CAPTIONS = b"1.jpg#0\tA dog runs .\n1.jpg#1\tA brown dog .\n2.jpg#0\tTwo cats sit .\n"
CSV = b"id,a,b\ns1,1.0,2.0\ns1,1.5,2.5\ns2,0.1,0.2\n"
TXT = "the cat sat\nsur le tapis \u00e9t\u00e9\n\nlast line".encode()

READERS = {  # name -> (file name, valid bytes, how to read it)
    "ts": ("x.ts", TS, lambda p: read_ts(p)),
    "conll": ("x.conll", CONLL, lambda p: read_conll(p, 0, -1)),
    "pairs": ("x.tsv", PAIRS, lambda p: read_pairs(p)),
    "cmudict": ("x.dict", CMUDICT, lambda p: read_cmudict(p, stress=False)),
    "captions": ("x.txt", CAPTIONS, lambda p: read_captions(p)),
    "predict-csv": ("x.csv", CSV, lambda p: read_sequences(p)),
    "predict-txt": ("x.txt", TXT, lambda p: read_sequences(p)),
    "predict-npy": ("x.npy", npy_bytes(), lambda p: read_sequences(p)),
    "predict-npz": ("x.npz", npy_bytes(npz=True), lambda p: read_sequences(p)),
    "predict-wav": ("x.wav", wav_bytes(), lambda p: read_sequences(p)),
    "speech-wav": ("x.wav", wav_bytes(), lambda p: read_wav(p)),
    "image": ("x.png", png_bytes(), lambda p: Flickr8kDataModule(root=str(p.parent)).image(p)),
    "text": ("x.txt", TXT * 3, lambda p: CharLMDataModule(path=str(p), sequence_length=4).setup()),
}
NUMBER = re.compile(rb"\d+\.\d+|\d+")


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """One to three edits of ``data``: byte-level (truncate, overwrite, insert, delete) or line-level (drop,
    repeat) or a number replaced by something that is not one."""
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        kind = draw(
            st.sampled_from(["truncate", "overwrite", "insert", "delete", "drop-line", "repeat-line", "number"])
        )
        at = draw(st.integers(0, max(n - 1, 0)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "overwrite":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at + 8 :]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 32)) :]
        elif kind in ("drop-line", "repeat-line"):
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if kind == "drop-line" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        else:
            numbers = list(NUMBER.finditer(data))
            if numbers:
                m = numbers[draw(st.integers(0, len(numbers) - 1))]
                junk = draw(st.sampled_from([b"nan", b"inf", b"-inf", b"?", b"", b"1e999", b"x", b"1,2", b":", b"\t"]))
                data = data[: m.start()] + junk + data[m.end() :]
    return data


@pytest.mark.parametrize("reader", READERS)
def test_a_valid_file_reads(reader, tmp_path):
    name, data, read = READERS[reader]
    (tmp_path / name).write_bytes(data)
    read(tmp_path / name)  # no error


@pytest.mark.parametrize("reader", READERS)
def test_a_damaged_file_ends_in_a_seqzoo_error_or_reads(reader, tmp_path_factory):
    name, data, read = READERS[reader]
    folder = tmp_path_factory.mktemp(reader)
    ran = []

    @FUZZ
    @given(mutated(data))
    def check(damaged: bytes):
        path = folder / name
        path.write_bytes(damaged)
        ran.append(damaged)
        try:
            read(path)
        except SeqzooError as e:
            assert str(path) in str(e) or path.name in str(e), f"the message does not name the file: {e}"

    check()
    assert len(ran) >= CASES and len(set(ran)) > CASES // 2  # the cases ran, and were not one file over and over
