"""The optional trackers: a run logs its metrics to MLflow's SQLite store and to an offline Weights & Biases run,
and the Rich progress bar trains like the plain one."""

from pathlib import Path

import pytest

from seqzoo.train import train
from tests.conftest import make_cfg

TINY = [
    "data=adding",
    "data.length=20",
    "data.n_train=64",
    "data.n_val=32",
    "data.n_test=32",
    "model=gru",
    "model.hidden_size=8",
    "trainer.max_epochs=2",
]


def test_mlflow_records_the_run_in_sqlite(tmp_path):
    mlflow = pytest.importorskip("mlflow")
    cfg = make_cfg(tmp_path / "run", [*TINY, "logger=mlflow"])
    train(cfg)
    store = tmp_path / "run" / "logs" / "mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")
    runs = client.search_runs([client.get_experiment_by_name("seqzoo").experiment_id])
    assert (
        len(runs) == 1
        and "val/loss" in runs[0].data.metrics
        and runs[0].data.params["model/_target_"] == "seqzoo.models.GRU"
    )


def test_wandb_writes_an_offline_run(tmp_path):
    pytest.importorskip("wandb")
    train(make_cfg(tmp_path / "run", [*TINY, "logger=wandb"]))
    runs = list(Path(tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))


def test_rich_callbacks_train(tmp_path):
    pytest.importorskip("rich")
    cfg = make_cfg(tmp_path / "run", [*TINY, "callbacks=rich"])
    assert cfg.callbacks.progress_bar._target_.endswith("RichProgressBar")
    assert train(cfg)["test"]["test/mse"] >= 0
