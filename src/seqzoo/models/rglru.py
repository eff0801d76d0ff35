"""Hawk (De et al. 2024, "Griffin: Mixing Gated Linear Recurrences with Local Attention for Efficient Language
Models"): residual blocks whose temporal mixing is the RG-LRU, a real diagonal linear recurrence whose decay is
gated by the input, behind a short causal convolution; Griffin is Hawk with local attention mixed in.

The RG-LRU, for x (B, T, E) after the convolution, channel by channel::

    r_t = sigmoid(W_a x_t + b_a)                   recurrence gate
    i_t = sigmoid(W_x x_t + b_x)                   input gate
    a_t = exp(-c * r_t * softplus(L))              c = 8: a gate r in (0, 1) moves the decay between 1 and a^c
    h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (i_t * x_t)
    y_t = h_t

A residual block (RMSNorm before each half)::

    u = u + W_out( GeLU(W_y v) * RG-LRU(conv(W_x v)) )      v = RMSNorm(u); conv: depthwise, causal, kernel 4
    u = u + W_down( GeLU(W_g w) * (W_u w) )                 w = RMSNorm(u); a gated MLP, expansion 3

L starts so that exp(-softplus(L)) is uniform on the ring [0.9, 0.999] (by area), as in recurrentgemma's code.
The gates are block-diagonal, one dense block per head (``heads``), as in recurrentgemma's code (whose 2B model has
blocks of 256 channels: at our default width of 128 the nearest is one block, a dense map). Differences
from it, stated: every step is normalised by sqrt(1 - a^2) (it skips that at a document's first token); and
1 - a^2 is floored at 1e-6 before its square root (it bounds the square root's gradient at 1000 instead; both
keep the gradient finite as a -> 1). ``mlp_expand=0`` leaves the MLP half out (the recurrent block alone).

The gates read the input only, so ``impl="scan"`` runs the recurrence as a parallel scan (``layers/linear_scan.py``)
and ``impl="reference"`` as the loop above; tested equal. Padded steps: a = 1 and no input (the state passes
through), output zero. The backbone: a linear input projection, ``num_layers`` blocks, a final RMSNorm.

Parameters per block (D = d_model, E = expand * D, M = mlp_expand * D): 2DE + 2E (W_y, W_x) + 5E (conv)
+ 2E^2 / heads + 2E (block-diagonal gates) + E (L) + ED + D (W_out) + 3DM + 2M + 2D (MLP and its norm, if M > 0)
+ D (norm); plus (input_size + 1) D and D.
"""

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.block_diagonal import BlockDiagonal
from seqzoo.layers.causal_conv import CausalConv
from seqzoo.layers.linear_scan import linear_recurrence_loop, linear_scan
from seqzoo.layers.time_loop import exporting
from seqzoo.models.block_stack import BlockStack
from seqzoo.models.interface import Width
from seqzoo.models.mamba import RMSNorm
from seqzoo.models.stream_decoder import decoder_role

C = 8.0  # the gate's reach: a_t = a^(C r_t)


class RGLRU(nn.Module):
    """The recurrence's coefficients: x (..., E) -> (a, b) of h_t = a_t h_{t-1} + b_t, each (..., E)."""

    def __init__(self, width: int, heads: int, min_radius: float = 0.9, max_radius: float = 0.999):
        super().__init__()
        self.gates = BlockDiagonal(width, heads, copies=2)  # r and i, one dense block per head
        radius_sq = torch.rand(width) * (max_radius**2 - min_radius**2) + min_radius**2
        self.L = nn.Parameter(torch.log(torch.expm1(-0.5 * torch.log(radius_sq))))  # softplus(L) = -log radius

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r, i = (torch.sigmoid(g) for g in self.gates(x))
        log_a = -C * r * F.softplus(self.L)
        a = torch.exp(log_a)
        return a, torch.sqrt((-torch.expm1(2 * log_a)).clamp_min(1e-6)) * (i * x)


class HawkBlock(nn.Module):
    def __init__(self, d_model, expand, mlp_expand, heads, d_conv, dropout, impl):
        super().__init__()
        D, self.impl = d_model, impl
        E, M = round(expand * D), round(mlp_expand * D)
        self.norm, self.mlp_norm = RMSNorm(D), RMSNorm(D) if M else None
        self.gate_proj, self.in_proj = nn.Linear(D, E), nn.Linear(D, E)
        self.conv = CausalConv(E, d_conv)
        self.rglru = RGLRU(E, heads)
        self.out_proj = nn.Linear(E, D)
        self.mlp_in, self.mlp_out = (nn.Linear(D, 2 * M), nn.Linear(M, D)) if M else (None, None)
        self.dropout = nn.Dropout(dropout)

    def mlp(self, u: torch.Tensor) -> torch.Tensor:
        if self.mlp_in is None:
            return u
        gate, value = self.mlp_in(self.mlp_norm(u)).chunk(2, dim=-1)
        return u + self.dropout(self.mlp_out(F.gelu(gate) * value))

    def start_state(self, like: torch.Tensor):
        """(conv inputs (B, E, K - 1), h (B, E)) of zeros."""
        return self.conv.start_state(like), like.new_zeros(like.shape[0], self.conv.in_channels)

    def forward(self, u, keep, lengths, state):
        """u (B, T, D), keep (B, T, 1) or None, lengths (B,), state or None -> (B, T, D), the final state"""
        v = self.norm(u)
        x = self.in_proj(v) if keep is None else self.in_proj(v) * keep  # (B, T, E)
        xc, conv_state = self.conv(x, None if state is None else state[0], lengths)
        a, b = self.rglru(xc)  # (B, T, E) each
        if keep is not None:  # a padded step: the state passes through
            a, b = a.where(keep.bool(), 1.0), b * keep
        h0 = torch.zeros_like(b[:, 0]) if state is None else state[1]
        run = linear_recurrence_loop if self.impl == "reference" or exporting() else linear_scan
        h = run(a, b, h0)  # (B, T, E)
        out = self.mlp(u + self.dropout(self.out_proj(F.gelu(self.gate_proj(v)) * h)))
        return (out if keep is None else out * keep), (conv_state, h[:, -1])

    def step(self, u: torch.Tensor, state):
        """u (B, D), state (conv inputs, h) -> (B, D), new state"""
        v = self.norm(u)
        xc, conv_state = self.conv.step(self.in_proj(v), state[0])
        a, b = self.rglru(xc)
        h = a * state[1] + b
        return self.mlp(u + self.dropout(self.out_proj(F.gelu(self.gate_proj(v)) * h))), (conv_state, h)


class Hawk(BlockStack):
    width = Width("d_model", multiple_of="heads")  # the gates' blocks split expand * d_model channels

    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 2,
        expand: float = 1.0,
        mlp_expand: float = 3.0,
        heads: int = 1,
        d_conv: int = 4,
        dropout: float = 0.0,
        impl: str = "scan",
    ):
        blocks = [HawkBlock(d_model, expand, mlp_expand, heads, d_conv, dropout, impl) for _ in range(num_layers)]
        super().__init__(input_size, d_model, blocks, RMSNorm(d_model), impl)


HawkDecoder = decoder_role(Hawk)
