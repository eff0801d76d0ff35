"""Sizes flow from data to model: the one helper that completes a part with the sizes its builder knows.

A config names a part's class and its choices (``hidden_size``); what the data or the task knows (input size,
classes, vocabularies, a memory's width) is filled in when the part is built. ``train`` builds the task with
the data's ``info``; each task builds its backbone and decoder with the sizes it derives.
"""

import inspect

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig
from torch import nn

from seqzoo.errors import SeqzooError

# what the data decides and a config must not contradict; other entries of a data module's ``info`` (BLEU,
# metric names, max lengths) are defaults that a config may override
FROM_DATA = {
    "input_size",
    "input_vocab_size",
    "num_classes",
    "num_targets",
    "class_names",
    "target_tokens",
    "condition_shape",
    "next_step",
}


def builder(part):
    """What builds ``part``: the class a config node or partial names, or a ready module's class."""
    if isinstance(part, nn.Module):
        return type(part)
    return get_class(part._target_) if isinstance(part, DictConfig) else getattr(part, "func", part)


def with_sizes(part, sizes: dict, decided=None, who: str = "task", **objects):
    """``part`` (a config node, a Hydra partial, or a ready module, which passes through) built with each of
    ``sizes`` its builder accepts, plus ``objects``. A size the config pins to another value is an error when the
    builder's
    caller (``who``) decides it (every key of ``sizes``, or those in ``decided``), else the config's choice stands."""
    if isinstance(part, nn.Module):
        return part
    node = isinstance(part, DictConfig)
    func = builder(part)
    params = inspect.signature(func).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    pinned = part if node else getattr(part, "keywords", {})
    given = {k: v for k, v in sizes.items() if takes_any or k in params}
    clash = {k: (pinned[k], v) for k, v in given.items() if pinned.get(k) is not None and pinned[k] != v}
    wrong = {k: c for k, c in clash.items() if decided is None or k in decided}
    if wrong:
        name = getattr(func, "__qualname__", str(func))
        raise SeqzooError(
            f"{name}: "
            f"{', '.join(f'{k}={a} is set in the config but the {who} needs {k}={b}' for k, (a, b) in wrong.items())}; "
            f"remove it from the config: the {who} sets it"
        )
    kwargs = {k: v for k, v in given.items() if k not in clash}
    if node:  # Hydra builds it: a constructor's error arrives as Hydra's, which the commands explain
        return instantiate(part, **kwargs, **objects, _convert_="partial")
    return part(**kwargs, **objects)
