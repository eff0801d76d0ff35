"""Mamba (Gu & Dao 2023; the Mamba-1 block), in PyTorch alone: a state-space model whose step size and
input/output maps depend on the input, so it can choose, token by token, what to keep.

One block, for a sequence x (B, T, d_model), with d_inner = expand * d_model channels and a state of
d_state numbers per channel::

    x, z  = in_proj(RMSNorm(x))                    two (B, T, d_inner) streams
    x     = SiLU(causal depthwise conv(x))         kernel d_conv: a short local mix
    dt    = softplus(dt_proj(W_dt x))              a step size per channel and step   (B, T, d_inner)
    B, C  = W_B x, W_C x                           input and output maps per step     (B, T, d_state)
    A     = -exp(A_log)                            (d_inner, d_state), S4D-Real init: A_n = -(n + 1)
    h_t   = exp(dt_t A) * h_{t-1} + dt_t B_t x_t   the selective scan                 (B, d_inner, d_state)
    y_t   = C_t . h_t + D x_t
    out   = x + dropout(out_proj(y * SiLU(z)))     gated, projected, residual

The backbone: a linear input projection to d_model, ``num_layers`` blocks, a final RMSNorm (``models/block_stack.py``).

``impl="reference"`` runs the selective scan one step at a time, as written, through autograd.
``impl="scan"`` (``layers/selective_scan.py``) computes the same numbers at most ``chunk`` steps at a time
(fewer on a CPU at big batches, to stay in cache) with a backward pass written by hand; off a CPU (or with
``parallel=True``) in long chunks whose recurrence is itself a parallel scan (``parallel=False`` keeps the
step-by-step loop inside chunks on any device): each chunk's
(chunk, B, d_inner, d_state) tensors are built, used and overwritten (recomputed in the backward pass), so
memory grows with T only through the (B, T, d_inner) streams, not T x d_inner x d_state. Padded steps get dt = 0 (the
state passes through) and output zeros.

``step()`` carries, per block, the convolution's last d_conv - 1 inputs and the SSM state: a fixed cost per
token at any position. ``forward(x, state=...)`` continues from such a state.

Parameters (D = d_model, E = d_inner, N = d_state, R = dt_rank = ceil(D / 16), K = d_conv), per block:
2 D E (in_proj) + E K + E (conv) + E (R + 2N) (x_proj) + R E + E (dt_proj) + E N (A_log) + E (D) + E D
(out_proj) + D (RMSNorm); plus (input_size + 1) D for the input projection and D for the final norm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.causal_conv import CausalConv
from seqzoo.layers.selective_scan import selective_scan, selective_scan_reference
from seqzoo.layers.time_loop import exporting
from seqzoo.models.block_stack import BlockStack
from seqzoo.models.stream_decoder import decoder_role


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MambaBlock(nn.Module):
    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dropout: float = 0.0,
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        impl: str = "scan",
        chunk: int = 64,
        parallel: bool | None = None,
    ):
        super().__init__()
        self.impl, self.chunk, self.parallel = impl, chunk, parallel
        self.dropout = nn.Dropout(dropout)
        E, self.dt_rank = expand * d_model, math.ceil(d_model / 16)
        self.norm = RMSNorm(d_model)
        self.in_proj = nn.Linear(d_model, 2 * E, bias=False)
        self.conv = CausalConv(E, d_conv)
        self.x_proj = nn.Linear(E, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, E)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(E, 1))  # (E, N)
        self.D = nn.Parameter(torch.ones(E))
        self.out_proj = nn.Linear(E, d_model, bias=False)
        with torch.no_grad():  # step sizes start log-uniform in [dt_min, dt_max] (softplus inverted in the bias)
            dt = torch.exp(torch.rand(E) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def ssm_inputs(self, x: torch.Tensor):
        """x (..., E) after the convolution -> dt (..., E), B (..., N), C (..., N), A (E, N)"""
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.A_log.shape[1], self.A_log.shape[1]], dim=-1)
        return F.softplus(self.dt_proj(dt)), B, C, -torch.exp(self.A_log)

    def forward(self, u: torch.Tensor, keep: torch.Tensor | None, lengths: torch.Tensor, state):
        """u (B, T, d_model), keep (B, T, 1) or None, lengths (B,), state (conv (B, E, K-1), ssm (B, E, N)) or None
        -> (B, T, d_model) and the state after each sequence's last real step."""
        x, z = self.in_proj(self.norm(u)).chunk(2, dim=-1)  # (B, T, E) each
        if keep is not None:
            x = x * keep
        xc, conv_state = self.conv(x, None if state is None else state[0], lengths)  # (B, T, E)
        xc = F.silu(xc)
        dt, B, C, A = self.ssm_inputs(xc)
        if keep is not None:
            dt = dt * keep  # a padded step: exp(0 A) = 1 and no input, the state passes through
        h = x.new_zeros(*x.shape[::2], A.shape[1]) if state is None else state[1]  # (B, E, N)
        if self.impl == "reference" or exporting():  # export: the recurrence as one ONNX Scan over any length
            y, h = selective_scan_reference(xc, dt, A, B, C, h)
        else:
            y, h = selective_scan(xc, dt, A, B, C, h, self.chunk, self.parallel)
        y = (y + self.D * xc) * F.silu(z)
        out = u + self.dropout(self.out_proj(y))
        return out, (conv_state, h)

    def start_state(self, like: torch.Tensor):
        """(conv inputs (B, E, K - 1), SSM state (B, E, N)) of zeros, for a batch like ``like`` (B, C)."""
        return self.conv.start_state(like), like.new_zeros(like.shape[0], *self.A_log.shape)

    def step(self, u: torch.Tensor, state):
        """u (B, d_model), state (conv (B, E, K-1), ssm (B, E, N)) -> (B, d_model), new state"""
        x, z = self.in_proj(self.norm(u)).chunk(2, dim=-1)  # (B, E)
        xc, conv_state = self.conv.step(x, state[0])
        xc = F.silu(xc)  # (B, E)
        dt, B, C, A = self.ssm_inputs(xc)
        h = torch.exp(dt.unsqueeze(-1) * A) * state[1] + (dt * xc).unsqueeze(-1) * B.unsqueeze(1)  # (B, E, N)
        y = ((h * C.unsqueeze(1)).sum(-1) + self.D * xc) * F.silu(z)
        return u + self.dropout(self.out_proj(y)), (conv_state, h)


class Mamba(BlockStack):
    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 2,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dropout: float = 0.0,
        impl: str = "scan",
        chunk: int = 64,
        parallel: bool | None = None,
    ):
        blocks = [
            MambaBlock(d_model, d_state, d_conv, expand, dropout, impl=impl, chunk=chunk, parallel=parallel)
            for _ in range(num_layers)
        ]
        super().__init__(input_size, d_model, blocks, RMSNorm(d_model), impl)


MambaDecoder = decoder_role(Mamba)
