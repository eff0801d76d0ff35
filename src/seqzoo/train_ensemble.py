"""``python train.py ensemble=N``: N runs of one many-to-one config with seeds seed, seed+1, ..., each a whole
run of its own under ``<run dir>/member_<i>/``; then their tested weights as one model (``tasks.ensemble``),
validated, tested and saved as ``<run dir>/checkpoints/ensemble.ckpt``, which eval, predict, export and the
pretrained registry read like any checkpoint. Run again into the same folder (``hydra.run.dir=<it>
overwrite=true``), an ensemble keeps the members that finished and resumes the one that was interrupted."""

import copy
import json
import time
from pathlib import Path

import lightning as L
import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from seqzoo.atomic import atomic_path
from seqzoo.callbacks.interrupt import Interrupted, resume_command
from seqzoo.checkpoint import KEY, load_checkpoint
from seqzoo.errors import SeqzooError
from seqzoo.run_dirs import check_new
from seqzoo.run_report import print_table, scalars, write_metrics
from seqzoo.tasks.ensemble import Ensemble
from seqzoo.tasks.many_to_one import ManyToOne


def member_config(cfg: DictConfig, i: int) -> DictConfig:
    """The i-th member's run: one model, the next seed, its own folder inside the ensemble's."""
    member = copy.deepcopy(cfg)
    with open_dict(member):
        member.ensemble = 1
        member.seed = None if cfg.get("seed") is None else cfg.seed + i
        member.paths.output_dir = str(Path(cfg.paths.output_dir) / f"member_{i}")
        member.ckpt_path = None
    saved = Path(member.paths.output_dir) / "checkpoints" / "last.ckpt"  # where an interrupt saves
    if saved.is_file() and cfg.get("overwrite"):  # an ensemble run again in its folder: go on from there
        member.ckpt_path = str(saved)
    return member


def finished(folder: Path) -> dict | None:
    """A member run that ended and was tested: its metrics, else None."""
    path = folder / "metrics.json"
    metrics = json.loads(path.read_text()) if path.is_file() else {}
    done = "test" in metrics and Path(metrics.get("tested_checkpoint") or "/nonexistent").is_file()
    return metrics if done else None


def train_ensemble(cfg: DictConfig, train_one) -> dict:
    """Train ``cfg.ensemble`` members with ``train_one`` (``train.train``); -> the ensemble's metrics, with each
    member's beside them."""
    from seqzoo.train import restore  # train imports this module

    n = int(cfg.ensemble)
    if get_class(cfg.task._target_).mapping != ManyToOne.mapping:
        raise SeqzooError(
            f"ensemble={n} averages class probabilities: it needs task=many_to_one, not {cfg.task._target_}"
        )
    out = Path(cfg.paths.output_dir)
    if cfg.get("ckpt_path"):
        raise SeqzooError(
            f"ensemble={n} goes on in its own folder, not from ckpt_path: run the same command with "
            "hydra.run.dir=<the ensemble's run folder> overwrite=true"
        )
    check_new(out, bool(cfg.get("overwrite")))
    started = time.perf_counter()
    members = []
    for i in range(n):
        member = member_config(cfg, i)
        done = finished(Path(member.paths.output_dir)) if cfg.get("overwrite") else None
        print(f"ensemble member {i + 1} of {n}: seed {member.seed}" + (", finished before" if done else ""))
        if member.ckpt_path and not done:  # the logs of the part before the interrupt are kept, not replaced
            for logs in ("csv", "tensorboard"):
                folder = Path(member.paths.output_dir) / logs
                if folder.is_dir():
                    folder.rename(folder.with_name(f"{logs}_before_resume_{time.strftime('%Y%m%d-%H%M%S')}"))
        try:
            members.append(done or train_one(member))
        except Interrupted as e:
            again = resume_command(None, (f"hydra.run.dir={out}", "overwrite=true"))
            e.args = (f"{Interrupted(e.signum, e.step, e.saved)}. Go on with the ensemble:\n  {again}",)
            raise
    paths = [m["tested_checkpoint"] for m in members]
    if not all(paths):
        raise SeqzooError(
            "an ensemble is assembled from its members' checkpoints, and a member saved none "
            "(fast_dev_run, or checkpointing switched off); train without them"
        )
    # the data once (with the first member's state: the members share their data config), every member's weights
    restored = [restore(OmegaConf.create({"ckpt_path": p}), stage=None if i else "fit") for i, p in enumerate(paths)]
    datamodule = restored[0][1]
    ensemble = Ensemble([task for _, _, task in restored]).eval()
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    val = scalars(trainer.validate(ensemble, datamodule=datamodule, verbose=False)[0])
    test = scalars(trainer.test(ensemble, datamodule=datamodule, verbose=False)[0])
    saved = save_ensemble(ensemble, paths[0], cfg, out / "checkpoints" / "ensemble.ckpt")
    metrics = {
        "val": val,
        "test": test,
        "tested_weights": "ensemble",
        "tested_checkpoint": str(saved),
        "members": [
            {"seed": m["seed"], "val": m["val"], "test": m["test"], "checkpoint": p} for m, p in zip(members, paths)
        ],
        "seed": cfg.get("seed"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if trainer.is_global_zero:
        write_metrics(out / "metrics.json", metrics)
        print_table(f"final metrics of the ensemble of {n} ({saved})", {"val": val, "test": test})
        print(f"run directory: {out}")
    return metrics


def save_ensemble(ensemble: Ensemble, member_checkpoint: str, cfg: DictConfig, path: Path) -> Path:
    """One checkpoint for the whole ensemble: the first member's run record (config, data state, versions)
    with ``ensemble: N``, so restoring builds N members and loads them all."""
    info = load_checkpoint(member_checkpoint)[KEY]
    config = {**info["config"], "ensemble": len(ensemble.members), "seed": cfg.get("seed")}
    config["paths"] = {**config.get("paths", {}), "output_dir": str(path.parent.parent)}
    ckpt = {
        "state_dict": ensemble.state_dict(),
        "pytorch-lightning_version": L.__version__,
        KEY: {k: v for k, v in info.items() if k != "rng"} | {"config": config},
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
    return path
