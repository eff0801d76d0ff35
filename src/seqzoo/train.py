"""train(cfg), evaluate(cfg) and predict(cfg): pure functions of a composed config, under thin Hydra mains.

Sizes flow from data to model: the DataModule is set up first, and its ``info`` (input size, classes,
vocabularies, padding ids) fills the matching constructor arguments of the backbone and the task.
"""

import copy
import csv
import inspect
import time
from pathlib import Path

import lightning as L
import torch
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from seqzoo.atomic import atomic_open, check_output, write_text
from seqzoo.callbacks.divergence import Diverged
from seqzoo.callbacks.interrupt import Interrupted, resume_command
from seqzoo.checkpoint import KEY, RunInfo, load_checkpoint
from seqzoo.checkpoint_fit import GROUPS, check_fits, config_differences, size_differences
from seqzoo.config_checks import check_config
from seqzoo.configs import config_options
from seqzoo.data.files import read_sequences
from seqzoo.data.loading import make_loader
from seqzoo.data.splits import check_splits
from seqzoo.devices import check_devices
from seqzoo.diagnostics.summary import summary
from seqzoo.errors import SeqzooError, unwrap
from seqzoo.models.interface import is_forecaster
from seqzoo.models.registry import list_models
from seqzoo.models.sizing import fit_family
from seqzoo.run_dirs import check_new, mark_slurm_folder
from seqzoo.run_report import print_table, scalars, write_metrics
from seqzoo.sizes import FROM_DATA, with_sizes
from seqzoo.tasks.ensemble import Ensemble
from seqzoo.tasks.train_loss import EPOCH_LOSS
from seqzoo.train_ensemble import train_ensemble
from seqzoo.training_budget import with_training_budget
from seqzoo.trusted import check_trusted
from seqzoo.unseen import LIMIT, fit_lengths, flag_rows, input_ranges, unknown_tokens
from seqzoo.versions import version_note


def make(node: DictConfig, **kwargs):
    """``instantiate`` that lets our own errors through unwrapped: their message is the clear one."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        raise unwrap(e) from None


def check_mapping(task_cfg: DictConfig, datamodule) -> None:
    """A data set serves one mapping; a task that needs another fails here, naming both and the fix."""
    task_mapping = get_class(task_cfg._target_).mapping
    if task_mapping != datamodule.mapping:
        raise SeqzooError(
            f"task={task_mapping} cannot use data={type(datamodule).__name__}, which serves the "
            f"{datamodule.mapping} mapping; use task={datamodule.mapping}, or choose a data set that serves "
            f"{task_mapping}"
        )


def updated(cfg: DictConfig, group: str, values: dict) -> DictConfig:
    """A copy of ``cfg`` with ``values`` set in ``group``; ``cfg`` is left as it was."""
    new = copy.deepcopy(cfg)
    with open_dict(new):
        new[group].update(values)
    return new


def sized_model(cfg: DictConfig, info: dict, quiet: bool = False) -> DictConfig:
    """``model.target_params=N`` -> a config whose model has the width (the family's declared knob) that gives
    the whole task about N trainable parameters, and no ``target_params``: the run records the width chosen."""
    if "target_params" not in cfg.model:
        return cfg
    target, base = cfg.model.target_params, copy.deepcopy(cfg)
    with open_dict(base):
        del base.model["target_params"]  # a sizing request, not a constructor argument
    if target is None:
        return base
    one = copy.deepcopy(base)
    with open_dict(one):
        one.ensemble = 1  # the budget is each member's
    chosen, count = fit_family(
        lambda values: build_task(updated(one, "model", values), info),
        get_class(cfg.model._target_),
        base.model,
        int(target),
    )
    if not quiet:
        print(
            f"model.target_params={target}: {', '.join(f'{k}={v}' for k, v in chosen.items())} gives {count:,} "
            "parameters"
        )
    return updated(base, "model", chosen)


def check_family_mapping(cfg: DictConfig) -> None:
    """A direct forecaster (DLinear, N-BEATS) maps a context to a horizon: it has no part in other mappings."""
    mapping = getattr(get_class(cfg.task._target_), "mapping", None)
    if cfg.get("model") is not None and mapping != "forecast" and is_forecaster(get_class(cfg.model._target_)):
        raise SeqzooError(
            f"{cfg.model._target_.rsplit('.', 1)[-1]} is a direct forecaster (a context in, a horizon out): it works "
            f"with task=forecast only. For task={mapping} choose one of model={','.join(list_models('encoder'))}"
        )


def build_task(cfg: DictConfig, info: dict):
    """The task gets the model (and decoder) configs as partials and completes them with the sizes it
    knows: the data's input size for a backbone, an embedding size for tokens, a memory size for decoders."""
    check_family_mapping(cfg)
    cfg = sized_model(cfg, info, quiet=True)
    params = inspect.signature(get_class(cfg.task._target_)).parameters
    if "decoder" in params and params["decoder"].default is inspect.Parameter.empty and cfg.get("decoder") is None:
        raise SeqzooError(
            f"this task needs a decoder and none is configured: the model family ({cfg.model._target_}) has no "
            f"configs/decoder/ file, or decoder= named none; choose decoder={'|'.join(config_options('decoder'))}"
        )
    parts = {}
    for role, group in (("backbone", "model"), ("encoder", "model"), ("decoder", "decoder")):
        if role in params and cfg.get(group) is not None:
            parts[role] = instantiate(cfg[group], _partial_=True, _convert_="partial")
    try:
        tasks = [with_sizes(cfg.task, info, decided=FROM_DATA, who="data", **parts) for _ in range(members(cfg))]
    except InstantiationException as e:
        if unwrap(e) is e:
            raise
        raise unwrap(e) from None  # our own errors keep their message
    return tasks[0] if len(tasks) == 1 else Ensemble(tasks)  # a saved ensemble's run config says ensemble: N


def members(cfg: DictConfig) -> int:
    n = cfg.get("ensemble") or 1
    if not isinstance(n, int) or n < 1:
        raise SeqzooError(f"ensemble={n} is not a number of models; use ensemble=5 for five, or 1 for one")
    return n


def chosen_weights(select: DictConfig | None, trainer, n_val: int) -> tuple[str, str | None]:
    """-> ("best" | "last" | "train_loss", its checkpoint) to validate and test at the end: ``select.weights``,
    where ``auto`` trusts the best validation loss only when at least ``select.min_val`` examples measured it,
    and takes ``select.small_val`` otherwise."""
    select = select or {}
    which = select.get("weights", "best")
    if which == "auto":
        which = "best" if n_val >= select.get("min_val", 0) else select.get("small_val", "last")
    if which not in WEIGHTS:
        raise SeqzooError(f"select weights {which!r} is not one of {', '.join(WEIGHTS)} (or auto for select.weights)")
    return which, saved_checkpoints(trainer).get(which) or None  # fast_dev_run saves nothing: the weights in hand


WEIGHTS = ("best", "last", "train_loss")


def saved_checkpoints(trainer) -> dict[str, str]:
    """{"best": path, "last": path, "train_loss": path} from the checkpoint callbacks: the lowest validation loss,
    the latest (monitoring nothing), the lowest epoch training loss."""
    kinds = {None: "last", EPOCH_LOSS: "train_loss"}
    return {kinds.get(cb.monitor, "best"): cb.best_model_path for cb in trainer.checkpoint_callbacks}


def train(cfg: DictConfig, extra_callbacks: tuple = ()) -> dict:
    """Fit, then validate and test the best checkpoint; write metrics.json and config.yaml in the run dir.
    ``extra_callbacks``: objects the config cannot name (a search trial's pruning callback). ``ensemble=N``
    trains N seeds and tests them as one model (``train_ensemble``)."""
    check_config(cfg)
    if members(cfg) > 1:
        return train_ensemble(cfg, lambda member: train(member, extra_callbacks))
    if cfg.get("flush_denormal") is not None:  # first: the threads torch starts later copy this thread's setting
        torch.set_flush_denormal(cfg.flush_denormal)
    out = Path(cfg.paths.output_dir)
    check_new(out, bool(cfg.get("overwrite")))  # also for train(cfg) called from Python
    mark_slurm_folder(out)
    resumed = load_checkpoint(cfg.ckpt_path)[KEY] if cfg.get("ckpt_path") else None  # a bad path fails here, clearly
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    datamodule = make(cfg.data)
    check_mapping(cfg.task, datamodule)
    datamodule.prepare_data()
    datamodule.setup("fit")
    check_splits(datamodule.splits, type(datamodule).__name__, datamodule)
    info = datamodule.info
    cfg, budget = with_training_budget(cfg, datamodule)
    cfg = sized_model(cfg, info)
    if resumed:  # before the model is built: a checkpoint of another model or data is named as such
        now = {g: OmegaConf.to_container(cfg[g], resolve=True) for g in GROUPS if cfg.get(g) is not None}
        check_fits(
            cfg.ckpt_path,
            config_differences(resumed["config"], now) + size_differences(resumed["data_info"], info),
            "resume",
        )
    task = build_task(cfg, info)
    longest = info.get("max_length")
    text = summary(
        task, task.backbone_length(longest) if longest else None
    )  # raises before training when the model cannot reach the data
    if budget:
        text += "\n" + budget.describe()

    resolved = OmegaConf.to_container(cfg, resolve=True)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    callbacks += [RunInfo(resolved, info, datamodule.state_dict()), *extra_callbacks]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    check_devices(cfg.trainer)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    for logger in loggers:  # the run's settings beside its curves: searchable in MLflow and W&B
        logger.log_hyperparams({g: resolved[g] for g in ("model", "decoder", "task", "data", "seed") if g in resolved})
    if trainer.is_global_zero:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.yaml", OmegaConf.to_yaml(resolved))
        print(text)

    started = time.perf_counter()
    try:
        trainer.fit(task, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except Interrupted as e:  # saved at the step it stopped; say how to go on
        if trainer.is_global_zero:
            write_metrics(
                out / "metrics.json",
                {"interrupted": {"signal": e.signum, "step": e.step, "checkpoint": e.saved}, "seed": cfg.get("seed")},
            )
        e.args = (f"{e}. Resume with:\n  {resume_command(e.saved)}",)
        raise
    except Diverged as e:  # recorded as such; the checkpoints on disk hold the last finite weights
        saved = saved_checkpoints(trainer)
        if trainer.is_global_zero:
            write_metrics(
                out / "metrics.json",
                {"diverged": {"what": e.what, "step": e.step}, "checkpoints": saved, "seed": cfg.get("seed")},
            )
        kept = saved.get("last") or saved.get("best")
        raise SeqzooError(
            f"{e}. {'The last finite weights: ' + kept if kept else 'No checkpoint was saved before it.'}"
        ) from None
    which, ckpt = chosen_weights(cfg.get("select"), trainer, len(datamodule.splits.get("val", ())))
    val = scalars(trainer.validate(task, datamodule=datamodule, ckpt_path=ckpt, verbose=False)[0])
    test = scalars(trainer.test(task, datamodule=datamodule, ckpt_path=ckpt, verbose=False)[0])
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    metrics = {
        "val": val,
        "test": test,
        "tested_weights": which,
        "tested_checkpoint": ckpt or "",
        "best_checkpoint": best,
        "epochs": trainer.current_epoch,
        "global_step": trainer.global_step,
        "seed": cfg.get("seed"),
        "seconds": round(time.perf_counter() - started, 1),  # training and the final evaluation, wall-clock
    }
    if trainer.is_global_zero:
        write_metrics(out / "metrics.json", metrics)
        print_table(f"final metrics of the {which} weights ({ckpt or 'in memory'})", {"val": val, "test": test})
        print(f"run directory: {out}")
    return metrics


def monitored(cfg: DictConfig, metrics: dict) -> float | None:
    """The validation figure a run is judged by: the checkpoint callback's monitor (val/loss by default)."""
    name = ((cfg.get("callbacks") or {}).get("model_checkpoint") or {}).get("monitor") or "val/loss"
    return metrics["val"].get(name)


def restore(cfg: DictConfig, stage: str | None = None):
    """Checkpoint -> (run config, DataModule with its fitted state, task with its weights); built only from
    seqzoo's own building blocks (``seqzoo.trusted``), whatever the file names. With ``stage``, the data is
    set up for it and must have the sizes the checkpoint was trained with."""
    if OmegaConf.is_missing(cfg, "ckpt_path") or not cfg.ckpt_path:
        raise SeqzooError("no checkpoint given: add ckpt_path=<run dir>/checkpoints/best.ckpt, or pretrained=<name>")
    ckpt = load_checkpoint(cfg.ckpt_path)
    saved = ckpt[KEY]
    check_trusted(saved["config"], GROUPS, cfg.ckpt_path, cfg.get("trusted_targets"))
    note = version_note(saved.get("versions"), f"checkpoint {cfg.ckpt_path}")
    if note:
        print(f"seqzoo: note: {note}")
    run_cfg = OmegaConf.create(saved["config"])
    for key in ("data", "task"):  # e.g. +data.root=... for data that moved, +task.decoding.method=beam
        if cfg.get(key):
            with open_dict(run_cfg):
                run_cfg[key] = OmegaConf.merge(run_cfg[key], cfg[key])
    datamodule = make(run_cfg.data)
    datamodule.load_state_dict(saved["data_state"])
    if stage:
        datamodule.prepare_data()
        datamodule.setup(stage)
        check_fits(cfg.ckpt_path, size_differences(saved["data_info"], datamodule.info), "evaluate")
    task = build_task(run_cfg, saved["data_info"])
    try:
        task.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise SeqzooError(f"checkpoint {cfg.ckpt_path} does not fit the model its config describes: {e}") from None
    return run_cfg, datamodule, task


def evaluate(cfg: DictConfig) -> dict:
    """Recompute the test metrics of a checkpoint; they equal those its training run reported."""
    check_config(cfg)
    check_new(cfg.paths.output_dir, bool(cfg.get("overwrite")))
    _, datamodule, task = restore(cfg, stage="test")
    check_devices(cfg.trainer)
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    test = scalars(trainer.test(task, datamodule=datamodule, verbose=False)[0])
    if trainer.is_global_zero:
        write_metrics(Path(cfg.paths.output_dir) / "metrics.json", {"test": test, "checkpoint": str(cfg.ckpt_path)})
        print_table(f"test metrics of {cfg.ckpt_path}", {"test": test})
    return test


def predict(cfg: DictConfig) -> Path:
    """Run a checkpoint on sequences from a file and write one readable prediction per sequence (CSV)."""
    check_config(cfg)
    check_new(cfg.paths.output_dir, bool(cfg.get("overwrite")))
    if OmegaConf.is_missing(cfg, "input") or not cfg.input:
        raise SeqzooError("no input given: add input=<file.npy|.npz|.csv|.txt> with the sequences to predict")
    ckpt = None if OmegaConf.is_missing(cfg, "ckpt_path") else cfg.ckpt_path
    output = check_output(cfg.output, inputs=(cfg.input, ckpt), overwrite=bool(cfg.get("overwrite")))
    _, datamodule, task = restore(cfg)
    if hasattr(datamodule, "encode_file"):  # a whole file read the data's own way (forecasting: series histories)
        names, items = datamodule.encode_file(cfg.input)
    else:
        names, sequences = read_sequences(cfg.input, missing_allowed=datamodule.missing_values)
        if not sequences:
            raise SeqzooError(f"{cfg.input} holds no sequences to predict")
        if isinstance(sequences[0], str) != datamodule.reads_text:
            wanted = (
                "lines of text (.txt)"
                if datamodule.reads_text
                else "numeric sequences (.npy, .npz, .csv) or audio (.wav)"
            )
            raise SeqzooError(f"this checkpoint's model reads {wanted}; {cfg.input} does not hold that")
        items = datamodule.encode(sequences)
    cut = fit_lengths(names, items, task.longest_input(), bool(cfg.get("truncate")))
    vocab = getattr(datamodule, "source_vocab", None) or getattr(datamodule, "vocab", None)
    normalise = getattr(datamodule, "normalise", lambda text: text)
    unknown = (
        unknown_tokens(names, [normalise(s) for s in sequences], items, vocab)
        if datamodule.reads_text and not hasattr(datamodule, "encode_file")
        else None
    )
    largest = input_ranges(names, items)
    loader = make_loader(items, cfg.batch_size)
    check_devices(cfg.trainer)
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    rows = [row for batch in trainer.predict(task, dataloaders=loader) for row in batch]
    outside = flag_rows(rows, names, largest)
    for row, n in zip(rows, unknown or []):
        row["unknown_tokens"] = n
    try:
        with atomic_open(
            output, "w", newline=""
        ) as f:  # the whole file or none: never a partial one that looks complete
            writer = csv.DictWriter(f, fieldnames=["name", *rows[0]])
            writer.writeheader()
            for name, row in zip(names, rows):
                writer.writerow({"name": name, **row})
    except OSError as e:  # a full disk, a quota, a file size limit
        raise SeqzooError(
            f"could not write {output} ({e.strerror or e}); nothing was written there. Free space or "
            "choose another output="
        ) from None
    for name, row in list(zip(names, rows))[:10]:
        print(name, *(f"{k}={v}" for k, v in row.items()))
    print(f"{len(rows)} predictions written to {output}")
    unfinished = sum(row.get("complete") is False for row in rows)
    if unfinished:
        print(
            f"seqzoo: warning: {unfinished} output(s) reached the length limit before ending (column complete=False): "
            "their inputs are longer than the model was trained on, or +task.decoding.max_length=<n> is too short"
        )
    if cut:
        print(f"seqzoo: warning: {cut} sequence(s) were cut to the steps this model can read (truncate=true)")
    if outside:
        print(
            f"seqzoo: warning: {outside} of {len(rows)} sequences lie far outside the training data (|value| > "
            f"{LIMIT:g} "
            "after the model's normalisation; column outside=True): their answers are extrapolations"
        )
    return output
