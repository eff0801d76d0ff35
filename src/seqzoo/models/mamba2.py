"""Mamba-2 (Dao & Gu 2024, "Transformers are SSMs"): a selective state-space model whose decay is one scalar
per head and step, which makes the whole recurrence a product of matrices over chunks of time (state-space
duality, SSD) instead of a scan over every channel and state entry.

One block, for u (B, T, D), E = expand * D channels in H heads of P = E / H channels, N state entries::

    z, x, B, C, dt = in_proj(RMSNorm(u))           x, z (B, T, E); B, C (B, T, N), shared by the heads; dt (B, T, H)
    x, B, C  = SiLU(causal depthwise conv([x, B, C]))    kernel d_conv
    dt       = softplus(dt + dt_bias)              a step size per head and step
    A        = -exp(A_log)                          one scalar per head, starts uniform in [-16, -1]
    h_t      = exp(dt_t A) * h_{t-1} + dt_t x_t B_t^T     per head: h (P, N)
    y_t      = h_t C_t + D * x_t                   (P,) per head
    out      = u + dropout(out_proj(RMSNorm(y * SiLU(z))))

``impl="reference"`` runs the recurrence above one step at a time (and is what export traces: one ONNX Scan).
``impl="scan"`` is the chunked SSD algorithm: time is cut into chunks of ``chunk`` steps; with s_k the running
sum of dt A inside a chunk,

1. inside each chunk, as masked matrix products: y_k += sum_{j <= k} (C_k . B_j) exp(s_k - s_j) dt_j x_j
   (an (L, L) matrix per head, like causal attention with a decay instead of a softmax);
2. each chunk's own final state: S = sum_j exp(s_L - s_j) dt_j x_j B_j^T (a matrix product);
3. states passed across chunks: H_c = exp(s_L) H_{c-1} + S_c (a scan over T / L chunks, ``layers/linear_scan.py``);
4. what the entering state adds: y_k += exp(s_k) H_{c-1} C_k.

Every exponent is <= 0 (nothing overflows, nothing is divided); tested equal to the loop. Padded steps get
dt = 0 (the state passes through) and output zeros. The backbone: a linear input projection, ``num_layers``
blocks, a final RMSNorm (``models/block_stack.py``). Differences from state-spaces/mamba's Mamba2, stated: one
group of B and C (its ``ngroups`` = 1 default), no bias anywhere but the conv and dt, and no fused kernels.

Parameters per block (D = d_model, E = expand * D, N = d_state, H = heads, K = d_conv):
D (E + E + 2N + H) (in_proj) + (E + 2N)(K + 1) (conv) + 3H (dt_bias, A_log, D) + E (gated norm) + E D (out_proj)
+ D (norm); plus (input_size + 1) D for the input projection and D for the final norm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.causal_conv import CausalConv
from seqzoo.layers.linear_scan import linear_scan
from seqzoo.layers.relayout import swap_time_channels
from seqzoo.layers.time_loop import exporting, loop_over_time
from seqzoo.models.block_stack import BlockStack
from seqzoo.models.interface import Width
from seqzoo.models.mamba import RMSNorm
from seqzoo.models.stream_decoder import decoder_role


def ssd_reference(x, dt, A, B, C, h):
    """The recurrence, one step at a time. x (B, T, H, P), dt (B, T, H), A (H,), B and C (B, T, N),
    h (B, H, P, N) -> y (B, T, H, P), the final h."""

    def step(h, inputs):
        x_t, dt_t, B_t, C_t = inputs  # (B, H, P), (B, H), (B, N), (B, N)
        decay = torch.exp(dt_t * A)[:, :, None, None]  # (B, H, 1, 1)
        h = decay * h + (dt_t[:, :, None] * x_t)[..., None] * B_t[:, None, None, :]  # (B, H, P, N)
        return h, (h @ C_t[:, None, :, None]).squeeze(-1)  # (B, H, P)

    h, y = loop_over_time(step, h, (x, dt, B, C))
    return y, h


def ssd_chunked(x, dt, A, B, C, h0, chunk: int):
    """The same numbers by chunks of ``chunk`` steps (module docstring, steps 1-4); the same arguments."""
    Bsz, T, H, P = x.shape
    L = max(1, min(chunk, T))
    pad = -T % L
    if pad:  # dt = 0 on the padding: no decay, no input
        x, dt = F.pad(x, (0, 0, 0, 0, 0, pad)), F.pad(dt, (0, 0, 0, pad))
        B, C = F.pad(B, (0, 0, 0, pad)), F.pad(C, (0, 0, 0, pad))
    n = (T + pad) // L
    # heads before time, as copies both ways (swap_time_channels): every product below reads contiguous blocks
    x = swap_time_channels(x * dt.unsqueeze(-1)).view(Bsz, H, n, L, P)  # dt x: (B, H, n, L, P)
    s = (swap_time_channels(dt) * A[:, None]).view(Bsz, H, n, L).cumsum(-1)  # running sum of dt A: (B, H, n, L)
    B, C = B.view(Bsz, 1, n, L, -1), C.view(Bsz, 1, n, L, -1)  # (B, 1, n, L, N): shared by the heads
    causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
    gaps = (s.unsqueeze(-1) - s.unsqueeze(-2)).masked_fill(~causal, -math.inf)  # s_k - s_j, (B, H, n, L, L)
    y = ((C @ B.transpose(-1, -2)) * torch.exp(gaps)) @ x  # 1. inside chunks: (B, H, n, L, P)
    to_end = torch.exp(s[..., -1:] - s).unsqueeze(-1)  # exp(s_L - s_j): (B, H, n, L, 1)
    own = (x * to_end).transpose(-1, -2) @ B  # 2. each chunk's own final state: (B, H, n, P, N)
    across = torch.exp(s[..., -1])[..., None, None].expand_as(own)  # (B, H, n, P, N)
    states = linear_scan(across.transpose(1, 2), own.transpose(1, 2), h0).transpose(1, 2)  # 3. chunks as time
    entering = torch.cat([h0.unsqueeze(2), states[:, :, :-1]], 2)  # (B, H, n, P, N)
    y = y + torch.exp(s).unsqueeze(-1) * (C @ entering.transpose(-1, -2))  # 4. (B, H, n, L, P)
    return swap_time_channels(y.view(Bsz, H, n * L, P))[:, :T], states[:, :, -1]


class Mamba2Block(nn.Module):
    def __init__(self, d_model, d_state, d_conv, expand, heads, dropout, chunk, impl, dt_min=0.001, dt_max=0.1):
        super().__init__()
        E = expand * d_model
        if E % heads:
            raise ValueError(f"expand * d_model = {E} channels must divide into heads = {heads} heads")
        self.E, self.N, self.heads, self.headdim, self.chunk, self.impl = E, d_state, heads, E // heads, chunk, impl
        self.norm = RMSNorm(d_model)
        self.in_proj = nn.Linear(d_model, 2 * E + 2 * d_state + self.heads, bias=False)
        self.conv = CausalConv(E + 2 * d_state, d_conv)
        self.A_log = nn.Parameter(torch.log(torch.empty(self.heads).uniform_(1, 16)))
        self.D = nn.Parameter(torch.ones(self.heads))
        dt = torch.exp(torch.rand(self.heads) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))  # softplus(dt_bias) = dt
        self.gate_norm = RMSNorm(E)
        self.out_proj = nn.Linear(E, d_model, bias=False)
        self.dropout = nn.Dropout(dropout)

    def split(self, u: torch.Tensor):
        """u (..., D) -> z (..., E), xBC (..., E + 2N), dt (..., H)"""
        return self.in_proj(self.norm(u)).split([self.E, self.E + 2 * self.N, self.heads], dim=-1)

    def ssm_inputs(self, xBC: torch.Tensor, dt: torch.Tensor):
        """After the conv: x (..., H, P), B and C (..., N), dt (..., H), A (H,)"""
        x, B, C = F.silu(xBC).split([self.E, self.N, self.N], dim=-1)
        x = x.unflatten(-1, (self.heads, self.headdim))
        return x, B, C, F.softplus(dt + self.dt_bias), -torch.exp(self.A_log)

    def output(self, u, x, y, z):
        """y (..., H, P) + D x, gated and normalised, projected, added to u."""
        y = (y + self.D[:, None] * x).flatten(-2)  # (..., E)
        return u + self.dropout(self.out_proj(self.gate_norm(y * F.silu(z))))

    def start_state(self, like: torch.Tensor):
        """(conv inputs (B, E + 2N, K - 1), h (B, H, P, N)) of zeros."""
        return self.conv.start_state(like), like.new_zeros(like.shape[0], self.heads, self.headdim, self.N)

    def forward(self, u, keep, lengths, state):
        """u (B, T, D), keep (B, T, 1) or None, lengths (B,), state or None -> (B, T, D), the final state"""
        z, xBC, dt = self.split(u)
        if keep is not None:
            xBC = xBC * keep
        xBC, conv_state = self.conv(xBC, None if state is None else state[0], lengths)
        x, B, C, dt, A = self.ssm_inputs(xBC, dt)
        if keep is not None:
            dt = dt * keep  # a padded step: exp(0) = 1 and no input, the state passes through
        h = self.start_state(u)[1] if state is None else state[1]
        if self.impl == "reference" or exporting():
            y, h = ssd_reference(x, dt, A, B, C, h)
        else:
            y, h = ssd_chunked(x, dt, A, B, C, h, self.chunk)
        out = self.output(u, x, y, z)
        return (out if keep is None else out * keep), (conv_state, h)

    def step(self, u: torch.Tensor, state):
        """u (B, D), state (conv inputs, h) -> (B, D), new state"""
        z, xBC, dt = self.split(u)
        xBC, conv_state = self.conv.step(xBC, state[0])
        x, B, C, dt, A = self.ssm_inputs(xBC, dt)
        h = torch.exp(dt * A)[..., None, None] * state[1] + (dt[..., None] * x)[..., None] * B[:, None, None, :]
        return self.output(u, x, (h @ C[:, None, :, None]).squeeze(-1), z), (conv_state, h)


class Mamba2(BlockStack):
    width = Width("d_model", multiple_of="heads", times="expand")  # expand * d_model channels split into heads

    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 2,
        d_state: int = 64,
        d_conv: int = 4,
        expand: int = 2,
        heads: int = 4,
        dropout: float = 0.0,
        chunk: int = 64,
        impl: str = "scan",
    ):
        blocks = [Mamba2Block(d_model, d_state, d_conv, expand, heads, dropout, chunk, impl) for _ in range(num_layers)]
        super().__init__(input_size, d_model, blocks, RMSNorm(d_model), impl)


Mamba2Decoder = decoder_role(Mamba2)
