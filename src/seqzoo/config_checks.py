"""One error boundary for config values, run by every command (train, eval, predict, export, tune) before
any work: ``data.batch_size=-1``, ``model.hidden_size=abc`` or ``+trainer.max_steps=0`` end in one message
naming the key, the value and what is expected, exit status 2, instead of a traceback minutes later or a
run that tests untrained weights.

Two sources of rules, neither a list of families:
- types from the constructors' own type hints: a value of every node with a ``_target_`` must fit the
  annotation of the parameter it fills (int, float, bool, str, or None where the hint allows it);
- ranges by what a parameter is, read from its name: sizes, counts and steps are >= 1, learning rates > 0,
  weight decay >= 0, dropout in [0, 1).
"""

import inspect
import re
import types
import typing

from omegaconf import DictConfig, ListConfig, OmegaConf

from seqzoo.errors import SeqzooError

METHODS = ("greedy", "beam", "sample")  # the decoding methods of tasks/token_decoder.py
# parameter name -> (test, what is expected); the first pattern that matches decides
RANGES = [
    (r"(^|_)dropout$", lambda v: 0 <= v < 1, "a number in [0, 1)"),
    (r"^lr$|(^|_)learning_rate$", lambda v: v > 0, "a number > 0"),
    (r"(^|_)weight_decay$|^label_smoothing$|^momentum$", lambda v: v >= 0, "a number >= 0"),
    (r"^num_workers$|^warmup_steps$|^min_val$|^min_steps$", lambda v: v >= 0, "a whole number >= 0"),
    (
        r"(^|_)(hidden|batch|embedding|kernel|input|memory|condition|patch|beam)_size$|(^|_)layers$|(^|_)heads$"
        r"|^(d_model|d_state|d_conv|expand|max_len|max_length|patience)$",
        lambda v: v >= 1,
        "a whole number >= 1",
    ),
    (r"^(max_steps|max_epochs)$", lambda v: v >= 1 or v == -1, "a whole number >= 1 (or -1: no limit)"),
    (r"^(min_batches|min_batch_size|epochs)$", lambda v: v >= 1, "a whole number >= 1"),
    (r"^temperature$", lambda v: v > 0, "a number > 0"),
    (r"_fraction$", lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    (r"^(gradient_clip_val|refresh_rate)$", lambda v: v >= 0, "a number >= 0"),
    (
        r"^(log_every_n_steps|target_length|checkpoint_every_n_steps)$|every_n_epochs$",
        lambda v: v >= 1,
        "a whole number >= 1",
    ),
    (r"^(save_top_k|max_depth)$", lambda v: v >= -1, "a whole number >= -1 (-1: all)"),
]


def check_config(cfg: DictConfig) -> None:
    """Raise one SeqzooError naming every value of ``cfg`` that cannot be right."""
    problems = []
    walk(cfg, "", None, problems)
    decoding = OmegaConf.select(cfg, "task.decoding.method", default=None)
    if decoding is not None and decoding not in METHODS:
        problems.append(f"task.decoding.method={decoding}: expected one of {', '.join(METHODS)}")
    if problems:
        raise SeqzooError(
            "config values that cannot be right:\n  "
            + "\n  ".join(problems)
            + "\nFix them on the command line (seqzoo-train --cfg job prints the composed config)."
        )


def walk(node, where: str, hints: dict | None, problems: list) -> None:
    if isinstance(node, DictConfig):
        target = node.get("_target_") if "_target_" in node else None
        params = signature_hints(target) if isinstance(target, str) else {}
        for key in node.keys():
            if OmegaConf.is_missing(node, key) or str(key).startswith("_"):
                continue
            try:
                value = node[key]
            except Exception:  # an interpolation that cannot resolve here (hydra:, a key of a runtime config)
                continue
            path = f"{where}.{key}" if where else str(key)
            if isinstance(value, (DictConfig, ListConfig)):
                walk(value, path, None, problems)
            else:
                problems.extend(check_value(path, str(key), value, params.get(key)))
    elif isinstance(node, ListConfig):
        for i, value in enumerate(node):
            if isinstance(value, (DictConfig, ListConfig)):
                walk(value, f"{where}[{i}]", None, problems)


def check_value(path: str, name: str, value, hint) -> list[str]:
    """A problem for the value, if any: the wrong type for its constructor's hint, or out of its range."""
    if hint is not None and not fits(value, hint):
        return [f"{path}={value}: expected {shown(hint)}"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    for pattern, ok, expected in RANGES:
        if re.search(pattern, name):
            return [] if ok(value) else [f"{path}={value}: expected {expected}"]
    return []


def signature_hints(target: str) -> dict:
    """Parameter name -> the simple type hint (int, float, bool, str or their Optional) of ``target``'s
    constructor; other hints are not checked. Targets that cannot be imported are left to the builder."""
    from hydra.utils import get_object

    try:
        obj = get_object(target)
        signature = inspect.signature(obj)
        hints = typing.get_type_hints(obj.__init__ if inspect.isclass(obj) else obj)
    except Exception:
        return {}
    out = {}
    for name in signature.parameters:
        allowed = simple(hints.get(name))
        if allowed:
            out[name] = allowed
    return out


def simple(hint) -> tuple | None:
    """int / float / bool / str, or a union of them with None -> the tuple of allowed types; else None."""
    args = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    allowed = tuple(a for a in args if a in (int, float, bool, str, type(None)))
    return allowed if allowed and len(allowed) == len(args) else None


def fits(value, allowed: tuple) -> bool:
    if value is None:
        return type(None) in allowed
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int):
        return int in allowed or float in allowed
    if isinstance(value, float):
        return float in allowed or (int in allowed and value.is_integer())
    return isinstance(value, str) and str in allowed


def shown(allowed: tuple) -> str:
    names = {int: "a whole number", float: "a number", bool: "true or false", str: "text", type(None): "null"}
    return " or ".join(dict.fromkeys(names[a] for a in allowed))
