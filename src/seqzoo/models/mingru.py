"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): a GRU and an LSTM whose gates read the
input only, never the previous state, so that the recurrence is linear in the state and trains as a
parallel scan instead of a loop.

One layer, one direction, step by step::

    minGRU                                        minLSTM
    z_t  = sigmoid(W_z x_t + b_z)  update gate    f_t  = sigmoid(W_f x_t + b_f)    forget gate
    h~_t = W_h x_t + b_h           candidate      i_t  = sigmoid(W_i x_t + b_i)    input gate
    h_t  = (1 - z_t) h_{t-1} + z_t h~_t           h~_t = W_h x_t + b_h             candidate
                                                  f'_t, i'_t = f_t, i_t / (f_t + i_t)   (sum to one)
                                                  h_t  = f'_t h_{t-1} + i'_t h~_t

Both are ``h_t = a_t * h_{t-1} + b_t`` with ``a`` and ``b`` computed from x alone: ``impl="scan"`` runs it as
a parallel scan (``layers/linear_scan.py``, O(T) work in ~2 sqrt(T) steps), ``impl="reference"`` as the loop
above; tested equal. minLSTM's normalised gates come from a softmax of the two log-sigmoids, so they stay
finite (and sum to one) at any gate pre-activation.

Stacked layers with dropout between them; an optional bidirectional encoder (a second scan backwards in
time); the final state ``(layers * dirs, B, H)`` in torch.nn's layout. Padded steps output zeros and leave
the state as it was (a = 1, b = 0), so the final state is each sequence's state at its last real step.
On a CPU a causal stack runs long sequences block by block in time (``layers/time_blocks.py``: the same
numbers, with tensors that stay cache-sized however long the sequence).

Parameters: ``sum over layers and directions of (in_l + 1) * G * H``, G = 2 for minGRU and 3 for minLSTM,
in_0 = input_size and in_l = dirs * H above the first layer.
"""

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers import time_blocks
from seqzoo.layers.linear_scan import linear_recurrence_loop, linear_scan
from seqzoo.layers.masking import check_inputs
from seqzoo.layers.time_loop import exporting
from seqzoo.models.interface import Width
from seqzoo.models.stream_decoder import decoder_role


class MinRecurrent(nn.Module):
    """The stack; ``MinGRU`` and ``MinLSTM`` choose the gates (``gates`` projections and ``coefficients``)."""

    gates = 2
    width = Width("hidden_size")

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        num_layers: int = 3,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "scan",
    ):
        super().__init__()
        if impl not in ("scan", "reference"):
            raise ValueError(f"impl must be 'scan' or 'reference', got {impl!r}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"need num_layers >= 1 and hidden_size >= 1, got {num_layers} and {hidden_size}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.impl, self.dirs = bidirectional, impl, 2 if bidirectional else 1
        self.layers = nn.ModuleList(
            nn.ModuleList(
                nn.Linear(input_size if layer == 0 else self.dirs * hidden_size, self.gates * hidden_size)
                for _ in range(self.dirs)
            )
            for layer in range(num_layers)
        )
        self.dropout = nn.Dropout(dropout)

    @property
    def output_size(self) -> int:
        return self.dirs * self.hidden_size

    @property
    def causal(self) -> bool:
        return not self.bidirectional

    def coefficients(self, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gate pre-activations (..., G * H) -> (a, b) of h_t = a_t h_{t-1} + b_t, each (..., H)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, state: torch.Tensor | None = None):
        """x (B, T, C), mask (B, T), state (layers * dirs, B, H) -> output (B, T, dirs * H), state (layers * dirs,
        B, H)"""
        check_inputs(self, x, mask)
        if state is None:
            state = x.new_zeros(self.num_layers * self.dirs, x.shape[0], self.hidden_size)
        block = (
            time_blocks.steps_per_block(x, self.gates * self.hidden_size) if self.causal and not exporting() else None
        )
        if block:  # long on a CPU: block by block in time, the same numbers with block-sized tensors
            return time_blocks.in_time_blocks(lambda xb, mb, s, last: self.run(xb, mb, s), x, mask, state, block)
        return self.run(x, mask, state)

    def run(self, x: torch.Tensor, mask: torch.Tensor | None, state: torch.Tensor):
        """``forward`` on a checked mask (or a block of one, where a row may be all padding)."""
        keep = None if mask is None else mask.unsqueeze(-1)  # (B, T, 1)
        run = linear_scan if self.impl == "scan" and not exporting() else linear_recurrence_loop  # export: ONNX Scan
        finals = []
        for i, directions in enumerate(self.layers):
            outputs = []
            for d, project in enumerate(directions):
                a, b = self.coefficients(project(x))  # (B, T, H) each
                if keep is not None:  # padding: the state passes through unchanged
                    a, b = a.masked_fill(~keep, 1.0), b.masked_fill(~keep, 0.0)
                if d == 1:  # backwards in time: padded steps come first and leave the initial state alone
                    a, b = a.flip(1), b.flip(1)
                h = run(a, b, state[i * self.dirs + d])  # (B, T, H)
                finals.append(h[:, -1])
                outputs.append(h.flip(1) if d == 1 else h)
            x = torch.cat(outputs, -1) if self.dirs == 2 else outputs[0]
            if keep is not None:
                x = x.masked_fill(~keep, 0.0)
            if i < self.num_layers - 1:
                x = self.dropout(x)
        return x, torch.stack(finals)

    def start_state(self, like: torch.Tensor) -> list[torch.Tensor]:
        """The state before the first step, for a batch like ``like`` (B, C): one (B, H) of zeros per layer
        (batch first, so beam search reorders it like every other decoder state)."""
        return [like.new_zeros(like.shape[0], self.hidden_size) for _ in range(self.num_layers)]

    def step(self, x: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One step of a causal stack: x (B, C), state [(B, H)] * layers -> (B, H), new state. A fixed-size
        state: the cost of a step does not grow with the position."""
        if self.bidirectional:
            raise ValueError(
                "a bidirectional minGRU/minLSTM reads the future; build it with bidirectional=false to step"
            )
        new = []
        for i, (project,) in enumerate(self.layers):
            a, b = self.coefficients(project(x))
            x = a * state[i] + b
            new.append(x)
            if i < self.num_layers - 1:
                x = self.dropout(x)
        return x, new


class MinGRU(MinRecurrent):
    gates = 2

    def coefficients(self, k):
        gate, candidate = k.chunk(2, dim=-1)
        z = torch.sigmoid(gate)
        return 1 - z, z * candidate


class MinLSTM(MinRecurrent):
    gates = 3

    def coefficients(self, k):
        f, i, candidate = k.chunk(3, dim=-1)
        forget, keep_in = torch.softmax(torch.stack([F.logsigmoid(f), F.logsigmoid(i)]), dim=0)  # f', i': sum to one
        return forget, keep_in * candidate


MinGRUDecoder = decoder_role(MinGRU)
MinLSTMDecoder = decoder_role(MinLSTM)
