"""The contract every backbone family keeps, stated once; tasks, model sizing and diagnostics read it from here
instead of testing classes. Torch only.

An **encoder** maps ``x (B, T, C)`` and an optional ``mask (B, T)`` (bool, True = real step, right-padded)
to outputs ``(B, T, output_size)``. Families with a final state (RNN, LSTM, GRU) return ``(outputs,
state)`` in torch.nn's layout, because users of torch.nn rely on it; ``run_encoder`` reads the outputs of
either form. Each family declares on its class:

- ``causal``: whether the output at step t depends on inputs up to t only;
- ``width``: which constructor argument sets its size and in what steps it moves (``Width``), so that
  ``model.target_params`` can size any family;
- its reach: ``receptive_field`` (how many steps one output sees; absent or None = unbounded) and
  ``max_len`` (the longest sequence it accepts; absent or None = any);
- ``every_step`` (absent = False): it was built to read raw steps (a Conv1d classifier pooling local features
  over the whole series), so many-to-one's ``target_length=auto`` feeds it every step rather than patches;
- ``state_optional`` (absent = False): its ``forward`` takes ``need_state=False`` and then skips computing
  the final state, which ``run_encoder`` (every task's encoder call) never reads.

A **forecaster** (``forecaster = True``: DLinear, N-BEATS) is no encoder: it maps a whole context
``x (B, L, C)`` of exactly ``context`` steps to a whole horizon ``(B, H, K, outputs)`` of its first K channels,
so it serves the forecasting task alone (``task=forecast``, as a direct forecaster); the task gives it
``context``, ``horizon``, ``num_targets`` and ``outputs`` (the parameters of one forecast value).

A **decoder** has a teacher-forced ``forward(x, memory=None, memory_mask=None, condition=None)``,
``init_state(memory=None, memory_mask=None, condition=None)``, ``step(x_t, state) -> (out, state)`` that
equals ``forward`` position by position, and ``reorder_state(state, index)`` for beam search.
"""

import math
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn


@dataclass(frozen=True)
class Width:
    """The constructor argument that sets a family's width; widths move in multiples of the value of
    ``multiple_of`` (a Transformer's d_model divides by its heads), or, with ``times``, so that the width times
    that argument's value is such a multiple (Mamba-2's expand * d_model channels divide into heads). A
    list-valued argument (a TCN's channels per level) is set to the same width at every level."""

    key: str
    multiple_of: str | None = None
    times: str | None = None

    def step(self, config) -> int:
        """The smallest move of the width that keeps the constraint, for a family's ``config``."""
        if not self.multiple_of:
            return 1
        m = int(config.get(self.multiple_of, 1))
        return m // math.gcd(m, int(config.get(self.times, 1))) if self.times else m


@runtime_checkable
class Encoder(Protocol):
    width: Width
    causal: bool

    @property
    def output_size(self) -> int: ...

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor | tuple[torch.Tensor, Any]: ...


@runtime_checkable
class Decoder(Protocol):
    @property
    def output_size(self) -> int: ...

    def forward(self, x: torch.Tensor, memory=None, memory_mask=None, condition=None) -> torch.Tensor: ...

    def init_state(self, memory=None, memory_mask=None, condition=None) -> dict: ...

    def step(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]: ...

    def reorder_state(self, state: dict, index: torch.Tensor) -> dict: ...


def run_encoder(encoder: nn.Module, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Any encoder -> its outputs (B, T, D), whether or not it also returns a final state. A family whose
    final state costs extra work (``state_optional``) is asked not to compute it."""
    out = encoder(x, mask, need_state=False) if getattr(encoder, "state_optional", False) else encoder(x, mask)
    return out[0] if isinstance(out, tuple) else out


def is_forecaster(family) -> bool:
    """Whether a family (class or module) maps a context to a horizon itself rather than encoding steps."""
    return bool(getattr(family, "forecaster", False))


def forecaster_sizes(context: int, horizon: int, input_size: int, num_targets: int | None, **more: int) -> int:
    """A forecaster's sizes checked once for every such family; -> K, the channels it forecasts (default: all)."""
    K = num_targets or input_size
    sizes = dict(context=context, horizon=horizon, input_size=input_size, num_targets=K, **more)
    if not 1 <= K <= input_size or min(sizes.values()) < 1:
        raise ValueError(f"need 1 <= num_targets <= input_size and positive sizes, got {sizes}")
    return K


def check_context(model: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A forecaster's input: (B, context, C), every step real (its maps are over a fixed number of steps)."""
    if x.dim() != 3 or x.shape[1] != model.context:
        raise ValueError(f"{type(model).__name__} reads (batch, {model.context} steps, channels), got {tuple(x.shape)}")
    if mask is not None and not bool(mask.all()):
        raise ValueError(f"{type(model).__name__} reads a whole context of {model.context} steps; it got padded ones")
    return x


def is_causal(module: nn.Module) -> bool:
    return bool(getattr(module, "causal", False))


def reach(module: nn.Module) -> int | None:
    """How many steps one output can see: a TCN's receptive field; None for unbounded (RNNs, attention)."""
    return getattr(module, "receptive_field", None)


def reads_every_step(family) -> bool:
    """Whether a family (class or module) asks for every step of a long signal rather than patches of them."""
    return bool(getattr(family, "every_step", False))


def max_length(module: nn.Module) -> int | None:
    """The longest sequence a module accepts (a Transformer's positions); None for any length."""
    return getattr(module, "max_len", None)
