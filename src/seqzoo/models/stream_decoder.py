"""Any causal backbone that streams, as a decoder. A backbone streams when, besides its teacher-forced
``forward(x (B, T, C)) -> (B, T, D)``, it has ``start_state(like (B, C))`` (the state before the first step)
and ``step(x_t (B, C), state) -> (out (B, D), state)`` equal to ``forward`` position by position: a causal
TCN (input buffers), minGRU (a fixed-size hidden state), ...

The decoder adds what generation needs around it: a condition vector (an image's features, a class)
concatenated to every input step, and attention over an encoder memory after the backbone. A family's
decoder is then a few lines: build the backbone with room for the condition, and declare its width.
"""

import inspect

import torch
from torch import nn

from seqzoo.layers.batch_select import select_batch
from seqzoo.layers.masking import check_mask
from seqzoo.layers.memory_attention import MemoryAttention
from seqzoo.models.interface import run_encoder


class StreamDecoder(nn.Module):
    def __init__(
        self,
        backbone: nn.Module,
        condition_size: int | None = None,
        memory_size: int | None = None,
        attention: str | None = "general",
    ):
        super().__init__()
        if not getattr(backbone, "causal", False):
            raise ValueError(
                f"a decoder generates one step at a time, so its backbone must be causal; {type(backbone).__name__} "
                "was built to read both directions (bidirectional=true or causal=false): build it causal for the "
                "decoder role"
            )
        self.backbone, self.condition_size = backbone, condition_size or 0
        use_attention = attention is not None and memory_size is not None
        self.attention = MemoryAttention(attention, backbone.output_size, memory_size) if use_attention else None

    @property
    def output_size(self) -> int:
        return self.backbone.output_size

    def with_condition(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """x (B, ..., C) and condition (B, K) -> (B, ..., C + K)"""
        if not self.condition_size:
            return x
        if condition is None:
            raise ValueError(f"this decoder was built with condition_size={self.condition_size}; pass condition (B, K)")
        cond = condition.view(condition.shape[0], *([1] * (x.dim() - 2)), -1).expand(*x.shape[:-1], -1)
        return torch.cat([x, cond], dim=-1)

    def init_state(
        self, memory=None, memory_mask=None, condition=None, *, batch_like: torch.Tensor | None = None
    ) -> dict:
        """``batch_like`` (B, C): any tensor with the batch size, dtype and device of the inputs to come."""
        like = batch_like if batch_like is not None else memory[:, 0] if memory is not None else condition
        if like is None:
            raise ValueError("init_state needs memory, condition or batch_like to know the batch size")
        backbone = self.backbone.start_state(like.new_zeros(like.shape[0], self.backbone.input_size))
        return {"backbone": backbone, "condition": condition, **self.memory_state(memory, memory_mask)}

    def memory_state(self, memory=None, memory_mask=None) -> dict:
        """What attention needs of the memory, its keys projected once."""
        if memory_mask is not None:
            check_mask(memory_mask, memory, "memory_mask")
        keys = self.attention.keys(memory) if self.attention is not None and memory is not None else None
        return {"memory": memory, "memory_mask": memory_mask, "keys": keys}

    def reorder_state(self, state: dict, index: torch.Tensor) -> dict:
        return select_batch(state, index, 0)

    def attend(self, h: torch.Tensor, state: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.attention is None or state["memory"] is None:
            return h, None
        return self.attention(h, state["memory"], state["keys"], state["memory_mask"])

    def forward(self, x, memory=None, memory_mask=None, condition=None, return_attention: bool = False):
        """x (B, T, C) embedded targets, memory (B, S, M), condition (B, K) -> (B, T, D);
        with ``return_attention`` also the attention weights (B, T, S), or None without attention."""
        h = run_encoder(self.backbone, self.with_condition(x, condition))  # (B, T, D)
        out, weights = self.attend(h, self.memory_state(memory, memory_mask))
        return (out, weights) if return_attention else out

    def step(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """x (B, C) one embedded token -> (B, D)"""
        h, state["backbone"] = self.backbone.step(self.with_condition(x, state["condition"]), state["backbone"])
        out, _ = self.attend(h.unsqueeze(1), state)
        return out.squeeze(1), state


def decoder_role(family: type) -> type:
    """``family``'s decoder: a ``StreamDecoder`` around it whose constructor takes the family's arguments plus
    ``condition_size``, ``memory_size`` and ``attention`` (its signature says so, for Hydra and config checks).
    One line per family (``LRUDecoder = decoder_role(LRU)``) instead of its constructor written out twice."""
    extra = [
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
        for name, default in (("condition_size", None), ("memory_size", None), ("attention", "general"))
    ]
    signature = inspect.signature(family).replace(parameters=[*inspect.signature(family).parameters.values(), *extra])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = dict(bound.arguments)
        condition_size, memory_size, attention = (given.pop(p.name) for p in extra)
        given["input_size"] += condition_size or 0  # the condition joins every input step
        StreamDecoder.__init__(self, family(**given), condition_size, memory_size, attention)

    name = f"{family.__name__}Decoder"
    doc = (
        f"{family.__name__} in the decoder role: conditioned and attending (``StreamDecoder``), stepping with its state"
    )
    cls = type(name, (StreamDecoder,), {"__init__": __init__, "width": family.width, "__doc__": doc + "."})
    cls.__signature__, cls.__module__ = signature, family.__module__
    return cls
