"""What a checkpoint's config may build: seqzoo's own building blocks, never what the file names.

``seqzoo-eval`` and ``seqzoo-predict`` rebuild the data, model and task from the config saved in the
checkpoint, by Hydra's ``_target_``. A file crafted to pass the ``weights_only`` loader can still name any
callable there (Hydra's own blocklist stops ``os.system``, not ``pathlib.Path.write_text``). So before
anything is imported or built, every ``_target_`` in the parts that will be built must be one of:

- a ``_target_`` written in seqzoo's installed configs (``configs/**.yaml``),
- a class defined in a ``seqzoo.`` module,
- an optimiser (``torch.optim``), a learning-rate schedule (``torch.optim.lr_scheduler``), a torch.nn layer
  or a torchmetrics metric class: what a user may put into ``task.optimizer`` and the like,
- or a name the user vouches for on the command line (``trusted_targets=[mypkg.MyModel]``).

Interpolations (``${...}``) are refused too: a saved config is resolved, so one in the file was put there.
"""

import importlib
import inspect
from functools import cache
from pathlib import Path

import torch
from omegaconf import OmegaConf

from seqzoo import configs
from seqzoo.errors import SeqzooError

# module prefix -> the base class a target under it must subclass (modules outside these are never imported)
KINDS = {
    "torch.optim.lr_scheduler.": torch.optim.lr_scheduler.LRScheduler,
    "torch.optim.": torch.optim.Optimizer,
    "torch.nn.": torch.nn.Module,
    "torchmetrics.": None,  # the Metric base class, imported only when needed
}


@cache
def installed_targets(config_dir: str) -> frozenset[str]:
    """Every ``_target_`` written in the installed configs."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("_target_"), str):
                found.add(node["_target_"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in Path(config_dir).rglob("*.yaml"):
        walk(OmegaConf.to_container(OmegaConf.load(path)))
    return frozenset(found)


def is_building_block(target: str) -> bool:
    """A class of seqzoo's, or of the torch/torchmetrics kinds above; modules elsewhere are not imported."""
    module, _, name = target.rpartition(".")
    if target.startswith("seqzoo."):
        base = object
    else:
        prefix = next((p for p in KINDS if target.startswith(p)), None)
        if prefix is None:
            return False
        base = KINDS[prefix] or importlib.import_module("torchmetrics").Metric
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return False
    home = "seqzoo." if base is object else target.split(".")[0] + "."
    return inspect.isclass(obj) and issubclass(obj, base) and obj.__module__.startswith(home)


def untrusted_entries(node, trusted: set[str], where: str = "") -> list[str]:
    """``key: value`` for each entry of ``node`` (a plain container) that could run foreign code."""
    found = []
    if isinstance(node, dict):
        target = node.get("_target_")
        if target is not None and not (isinstance(target, str) and (target in trusted or is_building_block(target))):
            found.append(f"{where}._target_: {target}".lstrip("."))
        for k, v in node.items():
            found += untrusted_entries(v, trusted, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += untrusted_entries(v, trusted, f"{where}[{i}]")
    elif isinstance(node, str) and "${" in node:
        found.append(f"{where.lstrip('.')}: {node}")
    return found


def check_trusted(config: dict, groups: tuple[str, ...], source, vouched=()) -> None:
    """Refuse, before anything is imported or built, a saved config whose ``groups`` name anything else."""
    trusted = set().union(*(installed_targets(str(d)) for d in configs.search_dirs())) | set(
        vouched or ()
    )  # a folder the user named is theirs
    bad = [e for g in groups for e in untrusted_entries(config.get(g), trusted, g)]
    if bad:
        raise SeqzooError(
            f"checkpoint {source} asks to build what seqzoo does not build from a file: {'; '.join(bad)}. seqzoo "
            "rebuilds "
            "a checkpoint only from its own classes, torch optimisers, schedules and layers, torchmetrics metrics "
            "and the "
            "targets of its installed configs. If you trust this file and wrote that class yourself, name it: "
            f"trusted_targets=[{','.join(sorted({e.split(': ', 1)[1] for e in bad if '_target_' in e}))}]"
        )
