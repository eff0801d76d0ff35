"""mLSTM (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory"): an LSTM whose memory is a matrix per head,
written with exponential input gates and read by a query, so that its recurrence is linear in the memory and
trains in chunks of matrix products.

One head, with q, k, v (Dh,) (k scaled by 1 / sqrt(Dh)) and gate pre-activations i~, f~ (scalars)::

    log f_t = logsigmoid(f~_t)                        forget gate, in log space
    m_t     = max(log f_t + m_{t-1}, i~_t)            the stabiliser: the largest log weight so far
    i'_t    = exp(i~_t - m_t),  f'_t = exp(log f_t + m_{t-1} - m_t)     both <= 1: nothing overflows
    C_t     = f'_t C_{t-1} + i'_t v_t k_t^T           the matrix memory (Dh, Dh)
    n_t     = f'_t n_{t-1} + i'_t k_t                 the normaliser
    h_t     = C_t q_t / max(|n_t . q_t|, exp(-m_t))

Scaling C and n by exp(-m_t) cancels in h_t (h_t = C q / max(|n q|, 1) with C and n unscaled), so any
stabiliser gives the same outputs; it only keeps the exponentials in range.

A block, xLSTM's pre-up-projection mLSTM block (E = expand * d_model channels, ``heads`` heads of Dh = E / heads)::

    x, z   = up_proj(LayerNorm(u))                    (B, T, E) each
    c      = SiLU(causal depthwise conv(x))           kernel d_conv
    q, k   = blockwise maps of c; v = blockwise map of x     one block per head
    i~, f~ = W [q, k, v] + b                          one pair per head and step
    h      = per-head norm(mLSTM(q, k, v, i~, f~)) + skip * c
    out    = u + dropout(down_proj(h * SiLU(z)))

Initialisation as xLSTM's: the gates' weights zero, forget-gate biases evenly spaced in [3, 6] over the heads,
input-gate biases ~ N(0, 0.1). Differences from NX-AI/xlstm, stated: q, k and v are block-diagonal with one
block per head (xLSTM's blocks are 4 channels wide: on a CPU E / 4 tiny products ran slower than H larger ones,
at more multiplies); no epsilon added to the normaliser (the bound exp(-m) already keeps it positive);
LayerNorms with biases.

``impl="reference"`` runs the recurrence above step by step (and is what export traces: one ONNX Scan).
``impl="scan"`` is the chunkwise form: inside chunks of ``chunk`` steps the outputs are masked matrix products
(q k^T weighted by exp(b_k - b_s + i~_s - m_k), b the running sum of log f: causal attention with a gated decay),
and only each chunk's final (C, n, m) passes to the next chunk; tested equal to the loop. Padded steps take
f = 1 and i = 0 (i~ = -inf): every state passes through, the output is zero.

Parameters per block (D = d_model, E = expand * D, H = heads, K = d_conv): 2D (LayerNorm) + 2DE + 2E (up_proj)
+ E (K + 1) (conv) + 3E^2 / H (q, k, v, a block per head) + 6EH + 2H (gates) + 2E (head norm weights, skip) + ED + D
(down_proj); plus (input_size + 1) D and 2D for the final LayerNorm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.block_diagonal import BlockDiagonal
from seqzoo.layers.causal_conv import CausalConv
from seqzoo.layers.linear_scan import linear_scan
from seqzoo.layers.relayout import swap_time_channels
from seqzoo.layers.time_loop import exporting, loop_over_time
from seqzoo.models.block_stack import BlockStack
from seqzoo.models.interface import Width
from seqzoo.models.stream_decoder import decoder_role


def mlstm_step(state, inputs):
    """One step of every head: state (C (B, H, Dh, Dh), n (B, H, Dh), m (B, H)); inputs q, k, v (B, H, Dh) and
    i~, log f (B, H) -> the new state, h (B, H, Dh)."""
    (C, n, m), (q, k, v, i_pre, log_f) = state, inputs
    m_new = torch.maximum(log_f + m, i_pre)
    f, i = torch.exp(log_f + m - m_new), torch.exp(i_pre - m_new)  # (B, H)
    C = f[..., None, None] * C + i[..., None, None] * (v.unsqueeze(-1) * k.unsqueeze(-2))
    n = f[..., None] * n + i[..., None] * k
    den = torch.maximum((n * q).sum(-1).abs(), torch.exp(-m_new))  # (B, H)
    return (C, n, m_new), (C @ q.unsqueeze(-1)).squeeze(-1) / den.unsqueeze(-1)


def mlstm_reference(q, k, v, i_pre, log_f, state):
    """The recurrence step by step: q, k, v (B, T, H, Dh), i~ and log f (B, T, H), state (C, n, m)
    -> h (B, T, H, Dh) and the final state."""
    final, h = loop_over_time(mlstm_step, state, (q, k, v, i_pre, log_f))
    return h, final


def mlstm_chunked(q, k, v, i_pre, log_f, state, chunk: int):
    """The same numbers by chunks of ``chunk`` steps (module docstring); the same arguments and results."""
    Bsz, T, H, Dh = q.shape
    L = max(1, min(chunk, T))
    pad = -T % L
    if pad:  # padded steps: f = 1, i = 0
        q, k, v = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (q, k, v))
        i_pre, log_f = F.pad(i_pre, (0, 0, 0, pad), value=-math.inf), F.pad(log_f, (0, 0, 0, pad))
    n = (T + pad) // L
    # heads before time, as copies both ways (swap_time_channels): no kernel, forward or backward, mixes layouts
    q, k, v = (swap_time_channels(t).view(Bsz, H, n, L, Dh) for t in (q, k, v))  # (B, H, n, L, Dh)
    i_pre, log_f = (swap_time_channels(t).view(Bsz, H, n, L) for t in (i_pre, log_f))  # (B, H, n, L)
    b = log_f.cumsum(-1)  # log f summed from the chunk's start through step k
    lowest = torch.finfo(q.dtype).min  # a chunk of padding only has no finite weight: keep -inf - -inf out
    # each chunk's own final (C, n), stabilised by its own largest log weight
    a = b[..., -1:] - b + i_pre  # (B, H, n, L): log weight of step s in its chunk's final state
    m_own = a.max(-1).values  # (B, H, n)
    w = torch.exp(a - m_own.clamp_min(lowest).unsqueeze(-1)).unsqueeze(-1)  # (B, H, n, L, 1)
    C_own, n_own = (v * w).transpose(-1, -2) @ k, (k * w).sum(-2)  # (B, H, n, Dh, Dh), (B, H, n, Dh)
    # the state entering each chunk. Its stabiliser first: m_c = max(g_c + m_{c-1}, m_own_c) (g_c: the chunk's
    # summed log f) unrolls to G_c + max(m_0, max_{j <= c} (m_own_j - G_j)), G the running sum of g: a cummax.
    # Any stabiliser keeps h exact (it cancels) as long as C and n are scaled by the same one; this one keeps
    # every exponent below <= 0, so the states pass as a linear scan over the T / L chunks.
    C0, n0, m0 = state
    g = b[..., -1]  # (B, H, n)
    G = g.cumsum(-1)
    m = G + torch.maximum(m0.unsqueeze(-1), (m_own.clamp_min(lowest) - G).cummax(-1).values)  # (B, H, n)
    m_prev = torch.cat([m0.unsqueeze(-1), m[..., :-1]], -1)
    f, o = torch.exp(g + m_prev - m), torch.exp(m_own - m)  # (B, H, n): both <= 1
    states = linear_scan(  # chunks as time: (B, n, H, Dh, Dh + 1), C and n side by side
        f.transpose(1, 2)[..., None, None].expand(-1, -1, -1, Dh, Dh + 1),
        (o[..., None, None] * torch.cat([C_own, n_own.unsqueeze(-1)], -1)).transpose(1, 2),
        torch.cat([C0, n0.unsqueeze(-1)], -1),
    ).transpose(1, 2)  # (B, H, n, Dh, Dh + 1)
    entering = torch.cat([torch.cat([C0, n0.unsqueeze(-1)], -1).unsqueeze(2), states[:, :, :-1]], 2)
    C_in, n_in, m_in = entering[..., :Dh], entering[..., Dh], m_prev  # (B, H, n, ...)
    C, nrm = states[:, :, -1, :, :Dh], states[:, :, -1, :, Dh]
    m = m[..., -1]
    # outputs: the entering state's share and the chunk's own steps, with one stabiliser per row
    causal = torch.ones(L, L, dtype=torch.bool, device=q.device).tril()
    log_w = (b.unsqueeze(-1) - b.unsqueeze(-2) + i_pre.unsqueeze(-2)).masked_fill(~causal, -math.inf)  # (.., L, L)
    from_state = b + m_in.unsqueeze(-1)  # (B, H, n, L)
    m_k = torch.maximum(from_state, log_w.max(-1).values)  # (B, H, n, L)
    S = (q @ k.transpose(-1, -2)) * torch.exp(log_w - m_k.unsqueeze(-1))  # (B, H, n, L, L)
    e = torch.exp(from_state - m_k).unsqueeze(-1)  # (B, H, n, L, 1)
    num = S @ v + e * (q @ C_in.transpose(-1, -2))  # (B, H, n, L, Dh)
    den = S.sum(-1) + e.squeeze(-1) * (q @ n_in.unsqueeze(-1)).squeeze(-1)  # (B, H, n, L)
    h = num / torch.maximum(den.abs(), torch.exp(-m_k)).unsqueeze(-1)
    return swap_time_channels(h.view(Bsz, H, n * L, Dh))[:, :T], (C, nrm, m)


class MLSTMBlock(nn.Module):
    def __init__(self, d_model, expand, heads, d_conv, dropout, chunk, impl):
        super().__init__()
        E = expand * d_model
        if E % heads:
            raise ValueError(f"expand * d_model = {E} channels must divide into {heads} heads")
        self.E, self.heads, self.chunk, self.impl = E, heads, chunk, impl
        self.norm = nn.LayerNorm(d_model)
        self.up_proj = nn.Linear(d_model, 2 * E)
        self.conv = CausalConv(E, d_conv)
        self.qk = BlockDiagonal(E, heads, copies=2, bias=False)  # one block per head
        self.v = BlockDiagonal(E, heads, bias=False)
        self.gates = nn.Linear(3 * E, 2 * heads)  # i~ and f~ per head
        with torch.no_grad():
            self.gates.weight.zero_()
            self.gates.bias[:heads].normal_(0, 0.1)
            self.gates.bias[heads:] = torch.linspace(3, 6, heads)
        self.head_norm = nn.Parameter(torch.ones(E))
        self.skip = nn.Parameter(torch.ones(E))
        self.down_proj = nn.Linear(E, d_model)
        self.dropout = nn.Dropout(dropout)

    def cell_inputs(self, x, c):
        """x, c (..., E) -> q, k, v (..., H, Dh) (k scaled), i~ and log f (..., H)"""
        q, k = self.qk(c)
        (v,) = self.v(x)
        i_pre, f_pre = self.gates(torch.cat([q, k, v], -1)).chunk(2, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, -1)) for t in (q, k, v))
        return q, k / math.sqrt(k.shape[-1]), v, i_pre, F.logsigmoid(f_pre)

    def output(self, u, h, c, z):
        """The cell's h (..., H, Dh) normalised per head, the skip, the gate, the projection, the residual."""
        h = F.layer_norm(h, h.shape[-1:]).flatten(-2) * self.head_norm + self.skip * c
        return u + self.dropout(self.down_proj(h * F.silu(z)))

    def start_state(self, like: torch.Tensor):
        """(conv inputs (B, E, K - 1), (C (B, H, Dh, Dh), n (B, H, Dh), m (B, H))) of zeros."""
        B, H, Dh = like.shape[0], self.heads, self.E // self.heads
        return self.conv.start_state(like), (
            like.new_zeros(B, H, Dh, Dh),
            like.new_zeros(B, H, Dh),
            like.new_zeros(B, H),
        )

    def forward(self, u, keep, lengths, state):
        """u (B, T, D), keep (B, T, 1) or None, lengths (B,), state or None -> (B, T, D), the final state"""
        x, z = self.up_proj(self.norm(u)).chunk(2, dim=-1)  # (B, T, E) each
        if keep is not None:
            x = x * keep
        c, conv_state = self.conv(x, None if state is None else state[0], lengths)
        c = F.silu(c)
        q, k, v, i_pre, log_f = self.cell_inputs(x, c)
        if keep is not None:  # a padded step: f = 1, i = 0, every state passes through
            i_pre, log_f = i_pre.masked_fill(keep == 0, -math.inf), log_f * keep
        cell = self.start_state(u)[1] if state is None else state[1]
        if self.impl == "reference" or exporting():
            h, cell = mlstm_reference(q, k, v, i_pre, log_f, cell)
        else:
            h, cell = mlstm_chunked(q, k, v, i_pre, log_f, cell, self.chunk)
        out = self.output(u, h, c, z)
        return (out if keep is None else out * keep), (conv_state, cell)

    def step(self, u: torch.Tensor, state):
        """u (B, D), state (conv inputs, (C, n, m)) -> (B, D), new state"""
        x, z = self.up_proj(self.norm(u)).chunk(2, dim=-1)
        c, conv_state = self.conv.step(x, state[0])
        c = F.silu(c)
        cell, h = mlstm_step(state[1], self.cell_inputs(x, c))
        return self.output(u, h, c, z), (conv_state, cell)


class MLSTM(BlockStack):
    width = Width("d_model", multiple_of="heads", times="expand")  # expand * d_model channels split into heads

    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 3,
        expand: int = 2,
        heads: int = 4,
        d_conv: int = 4,
        dropout: float = 0.0,
        chunk: int = 64,
        impl: str = "scan",
    ):
        blocks = [MLSTMBlock(d_model, expand, heads, d_conv, dropout, chunk, impl) for _ in range(num_layers)]
        super().__init__(input_size, d_model, blocks, nn.LayerNorm(d_model), impl)


MLSTMDecoder = decoder_role(MLSTM)
