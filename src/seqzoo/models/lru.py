"""LRU, the Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for Long
Sequences"): a linear RNN with a diagonal complex recurrence, parametrised so that it stays stable and starts
close to the edge of stability, and normalised so that slow modes do not blow up the state.

One block, for u (B, T, H) and N complex state entries n::

    lambda_n = exp(-exp(nu_n) + i exp(theta_n))       |lambda| = exp(-exp(nu)) < 1 for any nu: always stable
    gamma_n  = exp(gamma_log_n)                       starts at sqrt(1 - |lambda_n|^2): unit gain at any decay
    x_t      = lambda * x_{t-1} + gamma * (B u_t)     B (N, H) complex
    y_t      = Re(C x_t) + D * u_t                    C (H, N) complex, D (H,) real
    out      = u + GLU(W GELU(y))                     after a LayerNorm of u, as the paper's block (and S4's)

Initialisation (the paper's): |lambda| uniform on the ring r_min <= |lambda| <= r_max (by area), phase uniform
in [0, max_phase]; B ~ N(0, 1 / 2H) and C ~ N(0, 1 / N) per real and imaginary part, D ~ N(0, 1). The defaults
r_min 0.9, r_max 0.999, max_phase pi / 10 are a long-memory start (slow, barely rotating), the regime the
paper finds Long Range Arena needs; its generic defaults (r_min 0, r_max 1, max_phase 2 pi) are one override away.

The complex numbers are kept as real and imaginary parts (parameters, states): optimisers, ONNX and every
backend take real tensors. ``impl="reference"`` runs the recurrence one step at a time in real arithmetic
(what export traces: one ONNX Scan); ``impl="scan"`` runs it as a complex parallel scan (``layers/linear_scan.py``);
tested equal. Padded steps take lambda = 1 and no input: the state passes through, the output is zero.

The backbone: a linear input projection, ``num_layers`` blocks, a final LayerNorm (``models/block_stack.py``).
Parameters per block (H = d_model, N = d_state): 3N (nu, theta, gamma) + 4NH (B and C) + H (D) + 2H
(LayerNorm) + 2H^2 + 2H (W); plus (input_size + 1) H and 2H for the final norm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.linear_scan import linear_scan
from seqzoo.layers.time_loop import exporting, loop_over_time
from seqzoo.models.block_stack import BlockStack
from seqzoo.models.stream_decoder import decoder_role


def complex_loop(a_re, a_im, b_re, b_im, h_re, h_im):
    """x_t = a_t x_{t-1} + b_t in real arithmetic: a, b (B, T, N) parts, h (B, N) parts -> states (B, T, N, 2)."""

    def step(h, ab):
        (h_re, h_im), (a_re, a_im, b_re, b_im) = h, ab
        new = (a_re * h_re - a_im * h_im + b_re, a_re * h_im + a_im * h_re + b_im)
        return new, torch.stack(new, -1)

    return loop_over_time(step, (h_re, h_im), (a_re, a_im, b_re, b_im))[1]


class LRUBlock(nn.Module):
    def __init__(self, d_model, d_state, dropout, r_min, r_max, max_phase, impl):
        super().__init__()
        if not 0 <= r_min < r_max <= 1:
            raise ValueError(
                f"need 0 <= r_min < r_max <= 1 (|lambda| on a ring in the unit disc), got {r_min}, {r_max}"
            )
        H, N, self.impl = d_model, d_state, impl
        radius_sq = torch.rand(N) * (r_max**2 - r_min**2) + r_min**2  # uniform by area on the ring
        self.nu_log = nn.Parameter(torch.log(-0.5 * torch.log(radius_sq)))  # exp(-exp(nu)) = |lambda|
        self.theta_log = nn.Parameter(torch.log(max_phase * torch.rand(N).clamp_min(1e-4)))
        self.gamma_log = nn.Parameter(0.5 * torch.log1p(-radius_sq))  # sqrt(1 - |lambda|^2)
        self.B = nn.Parameter(torch.randn(2, N, H) / math.sqrt(2 * H))  # real and imaginary parts
        self.C = nn.Parameter(torch.randn(2, H, N) / math.sqrt(N))
        self.D = nn.Parameter(torch.randn(H))
        self.norm = nn.LayerNorm(H)
        self.mix = nn.Linear(H, 2 * H)
        self.dropout = nn.Dropout(dropout)

    def decay(self) -> tuple[torch.Tensor, torch.Tensor]:
        """lambda's real and imaginary parts, (N,) each."""
        modulus, phase = torch.exp(-torch.exp(self.nu_log)), torch.exp(self.theta_log)
        return modulus * torch.cos(phase), modulus * torch.sin(phase)

    def inputs(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """gamma * (B v): v (..., H) -> real and imaginary parts (..., N) each."""
        gamma = torch.exp(self.gamma_log)
        return gamma * (v @ self.B[0].T), gamma * (v @ self.B[1].T)

    def readout(self, v: torch.Tensor, h_re: torch.Tensor, h_im: torch.Tensor) -> torch.Tensor:
        """Re(C x) + D v, then the block's channel mixing: (..., H)."""
        y = h_re @ self.C[0].T - h_im @ self.C[1].T + self.D * v
        return F.glu(self.mix(self.dropout(F.gelu(y))), dim=-1)

    def start_state(self, like: torch.Tensor) -> torch.Tensor:
        return like.new_zeros(like.shape[0], self.nu_log.shape[0], 2)  # (B, N, real and imaginary)

    def forward(self, u, keep, lengths, state):
        """u (B, T, H), keep (B, T, 1) or None, lengths (B,), state (B, N, 2) or None -> (B, T, H), (B, N, 2)"""
        v = self.norm(u)  # (B, T, H)
        b_re, b_im = self.inputs(v)  # (B, T, N) each
        lam_re, lam_im = self.decay()
        a_re, a_im = lam_re.expand_as(b_re), lam_im.expand_as(b_im)
        if keep is not None:  # a padded step: lambda = 1, no input
            real = keep.bool()
            a_re, a_im = a_re.where(real, 1.0), a_im.where(real, 0.0)
            b_re, b_im = b_re * keep, b_im * keep
        h0 = self.start_state(u) if state is None else state
        if self.impl == "reference" or exporting():
            h = complex_loop(a_re, a_im, b_re, b_im, h0[..., 0], h0[..., 1])  # (B, T, N, 2)
        else:
            dtype = torch.promote_types(b_re.dtype, torch.float32)  # complex halves are not a thing on a CPU
            a, b = (torch.complex(re.to(dtype), im.to(dtype)) for re, im in ((a_re, a_im), (b_re, b_im)))
            h = torch.view_as_real(linear_scan(a, b, torch.view_as_complex(h0.to(dtype).contiguous()))).to(u.dtype)
        out = u + self.readout(v, h[..., 0], h[..., 1])
        return (out if keep is None else out * keep), h[:, -1]

    def step(self, u: torch.Tensor, state: torch.Tensor):
        """u (B, H), state (B, N, 2) -> (B, H), new state"""
        v = self.norm(u)
        b_re, b_im = self.inputs(v)
        lam_re, lam_im = self.decay()
        h_re = lam_re * state[..., 0] - lam_im * state[..., 1] + b_re
        h_im = lam_re * state[..., 1] + lam_im * state[..., 0] + b_im
        return u + self.readout(v, h_re, h_im), torch.stack([h_re, h_im], -1)


class LRU(BlockStack):
    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 4,
        d_state: int = 128,
        dropout: float = 0.0,
        r_min: float = 0.9,
        r_max: float = 0.999,
        max_phase: float = math.pi / 10,
        impl: str = "scan",
    ):
        blocks = [LRUBlock(d_model, d_state, dropout, r_min, r_max, max_phase, impl) for _ in range(num_layers)]
        super().__init__(input_size, d_model, blocks, nn.LayerNorm(d_model), impl)


LRUDecoder = decoder_role(LRU)
