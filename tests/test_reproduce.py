"""The Bai et al. 2018 reproduction: presets give every family its shape and budget, and the CI-scale suite
runs end to end (every row, every family, MNIST from fixture files) into a table, results and curves."""

import json
import sys
from pathlib import Path

import pytest
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from seqzoo.cli import compose_config
from seqzoo.configs import CONFIG_DIR
from seqzoo.models.sizing import count_parameters
from seqzoo.train import build_task
from tests.conftest import ROOT, encoder_names, load_script, run_cli
from tests.data.fixtures import mnist_root

FAMILIES = encoder_names()
# every preset under configs/experiment/bai2018/ is tested (a new one without an entry here fails, loudly)
PRESETS = sorted(f"bai2018/{p.stem}" for p in (Path(CONFIG_DIR) / "experiment" / "bai2018").glob("*.yaml"))
SMALL = {
    "bai2018/adding": ["data.n_train=8", "data.n_val=8", "data.n_test=8"],
    "bai2018/copy_memory": ["data.n_train=8", "data.n_val=8", "data.n_test=8"],
    "bai2018/seq_mnist": ["data.n_val=8"],
}


@pytest.mark.parametrize("experiment", PRESETS)
@pytest.mark.parametrize("family", FAMILIES)
def test_each_preset_sizes_each_family_to_the_papers_budget(tmp_path, experiment, family):
    root = [f"data.root={mnist_root(tmp_path)}"] if "mnist" in experiment else []
    cfg = compose_config(
        [f"experiment={experiment}", f"model={family}", *SMALL[experiment], *root], output_dir=tmp_path
    )
    target = cfg.model.target_params
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    task = build_task(cfg, dm.info)
    assert abs(count_parameters(task) - target) <= 0.05 * target
    own = Path(CONFIG_DIR) / "experiment_model" / experiment / f"{family}.yaml"
    if (
        own.is_file()
    ):  # the family's settings for this experiment were applied (a family without a file runs its defaults)
        width = get_class(cfg.model._target_).width.key  # set by the budget instead
        for key, value in flatten(OmegaConf.to_container(OmegaConf.load(own))).items():
            if key != f"model.{width}":
                assert OmegaConf.select(cfg, key) == value, (own.name, key)


def flatten(tree: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}"""
    out = {}
    for k, v in tree.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def test_a_preset_without_family_settings_still_composes():
    cfg = compose_config(["experiment=copy_memory_tcn"], output_dir=".")  # no configs/experiment_model/copy_memory_tcn/
    assert cfg.model._target_ == "seqzoo.models.TCN" and cfg.model.kernel_size == 8


def test_shortfall_names_what_a_run_did_less_than_the_paper():
    shortfall = load_script("reproduce").shortfall
    paper = OmegaConf.create({"trainer": {"max_epochs": 10}, "data": {"n_train": 50000}})
    full = OmegaConf.create({"trainer": {"max_epochs": 10}, "data": {"n_train": 50000}})
    short = OmegaConf.create({"trainer": {"max_epochs": 4, "limit_train_batches": 2}, "data": {"n_train": 6400}})
    assert shortfall(full, paper, epochs_done=10) == []
    assert shortfall(full, paper, epochs_done=3) == ["stopped by the time limit after 3 of 10 epochs"]
    assert shortfall(short, paper, epochs_done=4) == [
        "4 of 10 epochs",
        "6,400 of 50,000 training sequences",
        "2 batches per epoch",
    ]


def test_an_untuned_row_gathers_without_optuna(tmp_path, monkeypatch):
    """A plain run (no --tune) must not need the tune extra: on a GPU machine without optuna the gather step
    of a paper-scale run died on ``import optuna``."""
    script = load_script("reproduce")
    monkeypatch.setitem(sys.modules, "optuna", None)  # any import of optuna now raises ImportError
    assert script.best_settings(tmp_path / "tune" / "adding_t600", "tcn") is None


@pytest.mark.slow
def test_ci_scale_suite_runs_every_row_and_family(tmp_path):
    out = tmp_path / "reproduce"
    result = run_cli(
        [
            str(ROOT / "scripts" / "reproduce.py"),
            "--scale",
            "ci",
            "--out",
            str(out),
            "--mnist-root",
            str(mnist_root(tmp_path / "mnist")),
        ],
        tmp_path,
        timeout=2400,  # every row x 16 families: over 15 minutes on 2 shared cores
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert list(rows) == [
        "adding_t200",
        "adding_t400",
        "adding_t600",
        "copy_memory_t500",
        "copy_memory_t1000",
        "seq_mnist",
        "permuted_mnist",
    ]
    for key, per_family in rows.items():
        assert set(per_family) == set(FAMILIES), key
        for family, r in per_family.items():
            assert r["status"] == "cut short" and "2 of" in r["notes"][0], (key, family)  # never passed off as full
            assert r["value"] is not None and r["value"] == r["value"], (key, family)
            assert len(r["curve"]) == 2  # validation after each of the 2 epochs
        assert (out / "curves" / f"{key}.png").read_bytes()[:4] == b"\x89PNG"
    seq = json.loads((out / "runs" / "seq_mnist" / "tcn" / "metrics.json").read_text())
    assert 0.0 <= seq["test"]["test/acc"] <= 1.0
    table = (out / "table.md").read_text()
    script = load_script("reproduce")
    paper = script.ROWS["adding_t600"].paper  # the paper's figures under the families in configs/ order, "-" elsewhere
    expected = (
        "| | | Bai et al. 2018 | " + " | ".join(script.fmt(paper[f]) if f in paper else "-" for f in FAMILIES) + " |"
    )
    assert "| Adding problem T=600 |" in table and expected in table and "0.1640" in expected
    assert table.count("†") >= 35 and "failed" not in table and "not run" not in table


@pytest.mark.slow
def test_every_family_gets_the_same_tuning_budget_and_seeds_give_mean_and_spread(tmp_path):
    out = tmp_path / "tuned"
    result = run_cli(
        [
            str(ROOT / "scripts" / "reproduce.py"),
            "--scale",
            "ci",
            "--rows",
            "adding_t200",
            "--models",
            "gru,tcn",
            "--tune",
            "2",
            "--seeds",
            "2",
            "--out",
            str(out),
        ],
        tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = json.loads((out / "results.json").read_text())["rows"]["adding_t200"]
    for family in ("gru", "tcn"):
        r = rows[family]
        assert r["seeds"] == 2 and len(r["values"]) == 2 and r["std"] >= 0
        assert r["value"] == pytest.approx(sum(r["values"]) / 2)
        assert [o.split("=")[0] for o in r["tuned"]] == [
            "task.optimizer.lr",
            "trainer.gradient_clip_val",
            "model.dropout",
        ]
        assert len(list((out / "tune" / "adding_t200" / family / "trials").iterdir())) == 2  # the same budget each
        assert sorted(p.name for p in (out / "runs" / "adding_t200" / family).glob("seed*")) == ["seed0", "seed1"]
        assert r["tuning_seconds"] > 0 and r["seconds"] > 0  # how long the study and the final runs took
    table = (out / "table.md").read_text()
    assert " ± " in table and "Settings each family ended up with" in table and "2 final runs" in table

    # --resume after an interruption: only the missing seed runs again, the studies are complete already
    kept = out / "runs" / "adding_t200" / "gru" / "seed0" / "metrics.json"
    before = kept.stat().st_mtime_ns
    (out / "runs" / "adding_t200" / "tcn" / "seed1" / "metrics.json").unlink()
    result = run_cli(
        [
            str(ROOT / "scripts" / "reproduce.py"),
            "--scale",
            "ci",
            "--rows",
            "adding_t200",
            "--models",
            "gru,tcn",
            "--tune",
            "2",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--resume",
        ],
        tmp_path,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert kept.stat().st_mtime_ns == before
    assert (out / "runs" / "adding_t200" / "tcn" / "seed1" / "metrics.json").exists()
    assert len(list((out / "tune" / "adding_t200" / "tcn" / "trials").iterdir())) == 2
