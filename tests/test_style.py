"""The house style is checked, not hoped for: ruff's formatter at the 120-character line length of
pyproject.toml, unused imports and names, import order, and no line over 120 characters (strings and comments
too, which the formatter does not wrap)."""

import subprocess
import sys

from tests.conftest import ROOT

PATHS = ["src", "tests", "scripts", "train.py"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True)


def test_code_is_formatted():
    done = ruff("format", "--check")
    assert done.returncode == 0, f"run `ruff format {' '.join(PATHS)}`:\n{done.stdout[-3000:]}"


def test_no_long_lines_unused_names_or_unsorted_imports():
    done = ruff("check", "--select", "E501,E9,F,I", "--output-format", "concise")
    assert done.returncode == 0, f"`ruff check --select E501,E9,F,I` finds:\n{done.stdout[-3000:]}"
