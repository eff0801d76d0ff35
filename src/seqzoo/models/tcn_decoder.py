"""Causal TCN decoder: conditioned on a vector (concatenated to every input step) and/or attending to an
encoder memory after the convolution stack (``StreamDecoder``). ``step`` keeps each convolution's recent
inputs in a buffer, so generating one token costs O(levels) instead of re-running the whole prefix."""

from seqzoo.models.interface import Width
from seqzoo.models.stream_decoder import StreamDecoder
from seqzoo.models.tcn import TCN


class TCNDecoder(StreamDecoder):
    width = Width("num_channels")

    def __init__(
        self,
        input_size: int,
        num_channels: list[int] = (128,) * 4,
        kernel_size: int = 3,
        dropout: float = 0.0,
        weight_norm: bool = True,
        condition_size: int | None = None,
        memory_size: int | None = None,
        attention: str | None = "general",
    ):
        tcn = TCN(input_size + (condition_size or 0), num_channels, kernel_size, dropout, causal=True, weight_norm=weight_norm)
        super().__init__(tcn, condition_size, memory_size, attention)
