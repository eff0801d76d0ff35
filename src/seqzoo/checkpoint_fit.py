"""Does a checkpoint fit the run that wants to resume or evaluate it? Asked before anything is built.

Without this, ``python train.py model=gru ckpt_path=<an LSTM run>`` would end in PyTorch's "size mismatch for
backbone.weight_hh_l0". The run's saved config is compared with the composed one, group by group (model,
decoder, task, data), and the data's sizes with those saved: every difference is named with the value that
would fit. What only changes how long or where a run trains (trainer, epochs, budget, callbacks, loggers,
seed, paths) may differ, and so may the few keys below.
"""

import json
from pathlib import Path

from omegaconf import OmegaConf

from seqzoo.configs import config_file, config_options
from seqzoo.errors import SeqzooError
from seqzoo.sizes import FROM_DATA

GROUPS = ("model", "decoder", "task", "data")
# keys of those groups that a resumed run may change: where data lives, loader workers, how it generates
MAY_DIFFER = ("data.root", "data.num_workers", "task.decoding.", "task.sampling.")


def flat(node, prefix: str = "") -> dict:
    """{"model.hidden_size": 64, ...}: nested containers as dotted keys."""
    if isinstance(node, dict) and node:
        return {k: v for key, child in node.items() for k, v in flat(child, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): node}


def config_differences(saved: dict, now: dict) -> list[tuple[str, object, object]]:
    """(key, saved value, new value) for each key of ``GROUPS`` that differs and may not."""
    old = {k: v for g in GROUPS for k, v in flat(saved.get(g), f"{g}.").items()}
    new = {k: v for g in GROUPS for k, v in flat(now.get(g), f"{g}.").items()}
    missing = object()
    return [
        (k, old.get(k, missing), new.get(k, missing))
        for k in sorted(old.keys() | new.keys())
        if old.get(k, missing) != new.get(k, missing) and not (k + ".").startswith(MAY_DIFFER)
    ]


def size_differences(saved_info: dict, info: dict) -> list[tuple[str, object, object]]:
    return [
        (f"data size {k}", saved_info.get(k), info.get(k))
        for k in sorted(FROM_DATA)
        if k in saved_info and k in info and saved_info[k] != info[k]
    ]


def shown(value) -> str:
    text = "(absent)" if type(value) is object else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_override(key: str, value) -> str:
    """The command-line override that gives ``key`` the checkpoint's ``value``; a family or data set that
    differs is named by its config (``model=lstm``), not by its class."""
    if key.endswith("._target_"):
        group = key.split(".")[0]
        names = [n for n in config_options(group) if OmegaConf.load(config_file(group, n)).get("_target_") == value]
        return f"{group}={names[0] if len(names) == 1 else '|'.join(names) or '<the config of ' + str(value) + '>'}"
    return f"{key}={json.dumps(value) if not isinstance(value, str) else value}"


def started_with(ckpt_path) -> str | None:
    """The overrides the checkpoint's run was started with (from its run folder's .hydra/), if there."""
    overrides = Path(str(ckpt_path)).expanduser().resolve().parent.parent / ".hydra" / "overrides.yaml"
    return " ".join(OmegaConf.load(overrides)) if overrides.is_file() else None


def check_fits(ckpt_path, differences: list, doing: str) -> None:
    """Raise one message naming each difference, what the checkpoint has, and how to go on."""
    if not differences:
        return
    lines = "\n".join(f"  {k}: {shown(old)} in the checkpoint, {shown(new)} now" for k, old, new in differences)
    fixes = " ".join(
        as_override(k, old) for k, old, _ in differences if not k.startswith("data size") and type(old) is not object
    )
    origin = started_with(ckpt_path)
    hint = f"its run was started with: python train.py {origin}".rstrip() if origin is not None else ""
    raise SeqzooError(
        f"checkpoint {ckpt_path} does not fit the run you asked to {doing}:\n{lines}\n"
        f"To {doing} it, give the checkpoint's settings ({'; '.join(filter(None, [hint, fixes]))}) and change only "
        "what may change (epochs, budget, devices, callbacks, data.root); or start a new run without ckpt_path."
    )
