"""Every file seqzoo writes is written whole or not at all: to a temporary name in the same folder, then
renamed over the target (a rename within one file system is atomic). An interrupt, a full disk or a crash
leaves the previous file, or none, never a partial one whose last row looks complete."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from seqzoo.errors import SeqzooError


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path`` for a writer that wants a file name (savefig, ONNX); on success
    it replaces ``path``, on any failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:  # on the disk before the rename, so a crash cannot leave an empty file
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs):
    """``open(path, mode)`` that leaves the previous file or none unless the block finishes."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def check_output(output: str | Path, inputs: tuple = (), overwrite: bool = False) -> Path:
    """Before any work: the output is not one of the inputs, does not exist (unless ``overwrite``), and its
    folder can be written to. Returns the output as a Path."""
    output = Path(str(output)).expanduser()
    for given in inputs:
        if given and Path(str(given)).expanduser().resolve() == output.resolve():
            raise SeqzooError(
                f"output={output} is also an input; writing it would replace what you gave. Choose another output="
            )
    if output.exists() and not overwrite:
        raise SeqzooError(f"output={output} exists; choose another output= or add overwrite=true to replace it")
    if output.is_dir():
        raise SeqzooError(f"output={output} is a folder; give a file name, e.g. output={output / 'predictions.csv'}")
    folder = output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise SeqzooError(
            f"cannot write into {folder} ({e.strerror}); choose an output= in a folder you can write to"
        ) from None
    return output
