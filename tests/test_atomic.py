"""Outputs are whole or absent: predictions, metrics, exports and study reports are written to a temporary
name and renamed; an output that is an input, that exists, or whose folder cannot be written is refused
before any work; a disk that fills mid-write (a file size limit stands in) leaves no file and says so."""

import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pytest

from seqzoo.atomic import atomic_open, check_output
from seqzoo.errors import SeqzooError


def test_a_failed_write_leaves_the_previous_file_and_no_partial_one(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write("half of the new rows\n")
        raise RuntimeError("interrupted")
    assert target.read_text() == "previous\n" and os.listdir(tmp_path) == ["out.csv"]
    with atomic_open(target) as f:
        f.write("new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["out.csv"]


def test_outputs_that_are_inputs_exist_or_cannot_be_written_are_refused(tmp_path):
    given = tmp_path / "seqs.csv"
    given.write_text("1,2\n")
    with pytest.raises(SeqzooError, match="is also an input"):
        check_output(str(tmp_path / "." / "seqs.csv"), inputs=(str(given),), overwrite=True)
    with pytest.raises(SeqzooError, match="exists; choose another output= or add overwrite=true"):
        check_output(given)
    assert check_output(given, overwrite=True) == given
    with pytest.raises(SeqzooError, match="cannot write into"):
        check_output(given / "predictions.csv")  # a folder that is a file
    with pytest.raises(SeqzooError, match="is a folder"):
        check_output(tmp_path, overwrite=True)
    assert given.read_text() == "1,2\n"


def predict(tmp_path, *args, limit=None):
    def limited():  # a file size limit stands in for a full disk: writes past it fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", "from seqzoo.cli import predict_main; predict_main()", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limited if limit else None,
        env=dict(os.environ, OMP_NUM_THREADS="1", HYDRA_FULL_ERROR="0"),
    )


def test_predict_refuses_its_input_as_output_and_a_disk_that_fills_leaves_nothing(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "x.npz", **{f"s{i}": rng.normal(size=(8, 12)).astype("float32") for i in range(3000)})
    command = ["pretrained=japanese_vowels_lstm", f"input={tmp_path / 'x.npz'}"]
    before = (tmp_path / "x.npz").read_bytes()
    done = predict(tmp_path, *command, f"output={tmp_path / 'x.npz'}", "overwrite=true")
    assert done.returncode == 2 and "is also an input" in done.stderr and (tmp_path / "x.npz").read_bytes() == before

    out = tmp_path / "p" / "predictions.csv"
    done = predict(tmp_path, *command, f"output={out}", "hydra.run.dir=run1", limit=40_000)  # ~3000 rows: ~100 kB
    assert done.returncode == 2 and "nothing was written there" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and os.listdir(out.parent) == []  # no file, and no partial one beside it
    done = predict(tmp_path, *command, f"output={out}", "hydra.run.dir=run2")
    assert done.returncode == 0 and out.read_text().count("\n") == 3001
