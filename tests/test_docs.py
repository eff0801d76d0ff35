"""The documentation holds: the site builds with --strict and every internal link and anchor of the built HTML
resolves; every benchmark page reads a results file that exists and says how it was made; the README stays
short; and every code block of the tutorials runs (at the small sizes each page's ``<!-- test: -->`` comment
gives: ``old => new`` lines replaced in the page's code, each of which must occur)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # the docs tools are scripts, not part of the package
from check_links import broken_links  # noqa: E402
from results import REQUIRED, load  # noqa: E402

TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
BLOCK = re.compile(r"^```(python|bash)\n(.*?)^```", re.M | re.S)
SIZES = re.compile(r"<!--\s*test:[^\n]*\n(.*?)-->", re.S)


def code_blocks(page: Path) -> list[tuple[str, str]]:
    """(language, code) of each python and bash block, in order, with the page's test sizes applied."""
    text = page.read_text()
    blocks = [(lang, code) for lang, code in BLOCK.findall(text)]
    for line in SIZES.search(text).group(1).strip().splitlines() if SIZES.search(text) else []:
        old, new = (part.strip() for part in line.split("=>"))
        assert any(old in code for _, code in blocks), f"{page.name}: the test size {old!r} is in no code block"
        blocks = [(lang, code.replace(old, new)) for lang, code in blocks]
    return blocks


@pytest.mark.parametrize("page", TUTORIALS, ids=lambda p: p.stem)
def test_every_tutorial_block_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # a tutorial's own package (adding a family) imports from here
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    namespace: dict = {"__name__": "__tutorial__"}
    for i, (lang, code) in enumerate(code_blocks(page)):
        if lang == "python":
            exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
        else:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert done.returncode == 0, (
                f"{page.name} block {i} failed:\n{code}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )


def test_the_site_builds_strictly_and_its_links_resolve(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert broken_links(tmp_path / "site") == []
    families = (tmp_path / "site" / "reference" / "families" / "index.html").read_text()
    from seqzoo.models import list_models

    assert all(f'id="{name}"' in families for name in list_models())  # the reference covers every family


def test_the_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<h1 id="top">x</h1><a href="a/">ok</a><a href="#top">ok</a>'
        '<a href="b/">gone</a><a href="a/#nowhere">no anchor</a><a href="https://x.org">out</a>'
    )
    (tmp_path / "a" / "index.html").write_text('<p id="here">a</p>')
    problems = broken_links(tmp_path)
    assert len(problems) == 2 and "no file" in problems[0] + problems[1] and "#nowhere" in problems[0] + problems[1]


def test_results_files_say_how_each_figure_was_made_and_every_one_has_a_page():
    pages = "\n".join(p.read_text() for p in (ROOT / "docs").rglob("*.md"))
    for path in sorted((ROOT / "docs" / "results").glob("*.json")):
        data = load(path)
        assert data["runs"], path.name
        for run in data["runs"]:
            assert all(run[k] not in (None, "") for k in REQUIRED if k != "rows") and run["rows"], (
                path.name,
                run["label"],
            )
        assert re.search(rf"<!--\s*results:\s*{path.stem}\b", pages), f"no page renders {path.name}"


def test_results_record_replaces_a_run_of_the_same_label(tmp_path):
    from results import record

    record(tmp_path / "b.json", "cpu", [{"x": 1}], command="one")
    record(tmp_path / "b.json", "gpu", [{"x": 2}], command="two")
    record(tmp_path / "b.json", "cpu", [{"x": 3}], command="three")
    runs = json.loads((tmp_path / "b.json").read_text())["runs"]
    assert [(r["label"], r["rows"][0]["x"]) for r in runs] == [("gpu", 2), ("cpu", 3)]
    assert runs[1]["versions"]["torch"] and runs[1]["machine"]


def test_the_readme_stays_a_short_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail to docs/"
