"""S4D (Gu, Gupta, Goel & Ré 2022, "On the Parameterization and Initialization of Diagonal State Space
Models"): each channel a linear time-invariant system with a diagonal complex state, trained as one long
convolution computed by FFT, generating one step at a time with a fixed-size state.

One channel of one layer, N/2 complex modes n (their conjugates make the state real, hence 2 Re)::

    A_n  = -exp(log_A_re_n) + i A_im_n      S4D-Lin initialisation: A_n = -1/2 + i pi n
    dt   = exp(log_dt)                      a step size per channel, log-uniform in [0.001, 0.1]
    dA_n = exp(dt A_n)                      zero-order hold
    dB_n = (exp(dt A_n) - 1) / A_n          (B = 1: C carries the input weights; by expm1)
    s_t  = dA * s_{t-1} + dB * u_t          the state, (N/2,) complex
    y_t  = 2 Re(sum_n C_n s_t,n) + D u_t

Unrolled from a zero state, y = K * u + D u with the kernel K_l = 2 Re(sum_n C_n dB_n dA_n^l): ``forward``
computes K and applies it by FFT in O(T log T); ``step`` runs the recurrence. States leave the module as
real and imaginary parts (..., N/2, 2), so that every backend (and ONNX) can carry them. The powers dA^l are never
held as an (H, N/2, T) table: with l = m S + r (S ~ sqrt(T)), dA^l = dA^(mS) dA^r, so the kernel is one
batched product of two tables of ~sqrt(T) powers each; the final state (the same sum read from the last
real step backwards) is computed the same way.

A layer, as in the paper's S4D block: x + GLU(W GELU(SSM(LayerNorm(x)))), the SSM mixing time within each
channel and W (d_model -> 2 d_model, halved by the GLU) mixing channels. The backbone: a linear input
projection, ``num_layers`` layers, a final LayerNorm. ``bidirectional``: a second C reads the sequence
backwards and its output is added (an encoder only). Padded steps enter the convolutions as zeros and
output zeros.

Parameters (H = d_model, N = d_state, dirs = 1 or 2): (input_size + 1) H for the input projection, then per
layer H (log_dt) + H N (A) + dirs H N (C, real and imaginary parts) + H (D) + 2H (LayerNorm) + 2H^2 + 2H
(W), and 2H for the final LayerNorm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers import time_blocks
from seqzoo.layers.masking import check_inputs, lengths_from_mask
from seqzoo.layers.relayout import swap_time_channels
from seqzoo.layers.time_loop import exporting
from seqzoo.models.interface import Width
from seqzoo.models.stream_decoder import decoder_role


def powers(dtA: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """dA^l = exp(l dt A) for each l in ``steps``: (H, N2) -> (H, N2, len(steps)). The phase l dt Im(A)
    reaches 10^4 radians over long sequences, where float32 keeps only ~10^-3 of it: magnitude and phase are
    computed in float64 (real arithmetic: complex elementwise kernels are several times slower on a CPU),
    then rounded once."""
    l = steps.to(torch.float64)
    magnitude = torch.exp(dtA.real.to(torch.float64).unsqueeze(-1) * l)
    phase = dtA.imag.to(torch.float64).unsqueeze(-1) * l
    real = dtA.real.dtype
    return torch.complex((magnitude * torch.cos(phase)).to(real), (magnitude * torch.sin(phase)).to(real))


def power_tables(dtA: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """dA^l for l < length as two tables, dA^(mS) (H, N2, M) and dA^r (H, N2, S), with l = m S + r."""
    S = max(1, math.isqrt(max(length - 1, 0)) + 1)
    M = -(-length // S)
    steps = torch.arange(max(S, M), device=dtA.device)
    return powers(dtA, steps[:M] * S), powers(dtA, steps[:S]), S


def mode_sum(weights: torch.Tensor, P: torch.Tensor, Q: torch.Tensor, length: int) -> torch.Tensor:
    """2 Re(sum_n w_n dA_n^l) for l < length, from the tables of ``power_tables``: weights (..., H, N2) complex
    -> (..., H, length) real. The kernel (w = C dB) and what an initial state adds to the output (w = C dA s0)."""
    wp = weights.unsqueeze(-1) * P  # (..., H, N2, M)
    # Re(sum_n w_n q_n) = sum_n (Re w Re q - Im w Im q): one real product over 2 N2, not a complex one
    left = torch.cat([wp.real, -wp.imag], dim=-2).transpose(-1, -2)  # (..., H, M, 2 N2)
    K = left @ torch.cat([Q.real, Q.imag], dim=1)  # (..., H, M, S)
    return 2 * K.flatten(-2)[..., :length]


class FFTConv(torch.autograd.Function):
    """Causal convolution of u (B, H, T) with kernel (H, T) -> (B, H, T), by FFT over n >= 2T - 1 points (no
    wrap-around). The backward pass is written out: both gradients are correlations with the incoming
    gradient, computed from the spectra kept by the forward pass (one FFT of the gradient and two inverse
    ones, the kernel's summed over the batch before its inverse), where autograd would transform, pad and
    copy its way back through each step. On a CPU the channels go through in groups whose (B, group, n)
    spectra hold about ``time_blocks.ELEMENTS`` numbers (exact: channels do not mix): each group's transform,
    product and inverse stay in cache, and no intermediate is big enough for glibc to map it afresh from the
    kernel at every call (the cliff ``layers/time_blocks.py`` describes)."""

    @staticmethod
    def forward(ctx, u, kernel):
        T = u.shape[-1]
        n = 1 << (2 * T - 1).bit_length()  # a fast FFT size
        groups = channel_groups(u, n)
        y = u.new_empty(u.shape)
        spectra = []
        for g in groups:
            U, Kf = torch.fft.rfft(u[:, g], n=n), torch.fft.rfft(kernel[g], n=n)  # (B, G, n/2 + 1), (G, n/2 + 1)
            y[:, g] = torch.fft.irfft(U * Kf, n=n)[..., :T]
            spectra += [U, Kf]
        ctx.save_for_backward(*spectra)
        ctx.T, ctx.n, ctx.groups = T, n, groups
        return y

    @staticmethod
    def backward(ctx, grad):
        spectra, T, n = ctx.saved_tensors, ctx.T, ctx.n
        gu = grad.new_empty(grad.shape) if ctx.needs_input_grad[0] else None
        gk = grad.new_empty(grad.shape[1:]) if ctx.needs_input_grad[1] else None
        for g, U, Kf in zip(ctx.groups, spectra[::2], spectra[1::2]):
            G = torch.fft.rfft(grad[:, g], n=n)  # (B, G, n/2 + 1)
            if gu is not None:
                gu[:, g] = torch.fft.irfft(G * Kf.conj(), n=n)[..., :T]
            if gk is not None:
                gk[g] = torch.fft.irfft((G * U.conj()).sum(0), n=n)[..., :T]
        return gu, gk


def channel_groups(u: torch.Tensor, n: int) -> list[slice]:
    """Slices of u's H channels (u (B, H, T), spectra of n points): one group on a GPU, or when all fit."""
    B, H = u.shape[:2]
    size = H if u.device.type != "cpu" else max(1, min(H, time_blocks.ELEMENTS // (B * n)))
    return [slice(i, i + size) for i in range(0, H, size)]


def fft_conv(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Causal convolution of u (B, H, T) with kernel (H, T) -> (B, H, T)."""
    return FFTConv.apply(u, kernel)


def direct_conv(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The same convolution as a sum over T taps, O(T^2): the export path (no FFT of a traced length)."""
    T = u.shape[-1]
    return F.conv1d(F.pad(u, (T - 1, 0)), kernel.flip(-1).unsqueeze(1), groups=u.shape[1])  # (B, H, T)


class S4DKernel(nn.Module):
    """The diagonal SSM of one layer: H channels, N/2 complex modes each; ``dirs`` output maps C."""

    def __init__(self, channels: int, d_state: int = 64, dirs: int = 1, dt_min: float = 0.001, dt_max: float = 0.1):
        super().__init__()
        H, N2 = channels, d_state // 2
        self.log_dt = nn.Parameter(torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.log_A_re = nn.Parameter(torch.full((H, N2), math.log(0.5)))
        self.A_im = nn.Parameter(math.pi * torch.arange(N2, dtype=torch.float32).repeat(H, 1))
        self.C = nn.Parameter(torch.randn(dirs, H, N2, 2) * math.sqrt(0.5))  # real and imaginary parts
        self.D = nn.Parameter(torch.randn(H))

    def discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> dt A (H, N2), dB (H, N2) and C (dirs, H, N2), complex."""
        A = torch.complex(-torch.exp(self.log_A_re), self.A_im)
        dtA = A * torch.exp(self.log_dt).unsqueeze(-1)
        return dtA, torch.expm1(dtA) / A, torch.view_as_complex(self.C)  # expm1: exact for slow decays, tiny dt

    def kernel(self, length: int) -> tuple[torch.Tensor, tuple]:
        """-> K (dirs, H, length), real, and the discrete system for the state."""
        dtA, dB, C = self.discrete()
        P, Q, S = power_tables(dtA, length)  # (H, N2, M), (H, N2, S)
        return mode_sum(C * dB, P, Q, length), (dtA, dB, C, P, Q, S)

    def real_discrete(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """``discrete`` in real arithmetic, in ``dtype``: -> a, b with dt A = a + ib (H, N2), and dB's real and
        imaginary parts. expm1(dt A) = (expm1(a) cos b - 2 sin^2(b/2)) + i e^a sin b keeps expm1's accuracy
        for tiny steps. (ONNX has no complex numbers: ``real_kernel`` and ``real_step``, the export path, use this.)"""
        A_re, A_im = -torch.exp(self.log_A_re).to(dtype), self.A_im.to(dtype)  # (H, N2)
        dt = torch.exp(self.log_dt).to(dtype).unsqueeze(-1)
        a, b = dt * A_re, dt * A_im
        x_re, x_im = torch.expm1(a) * torch.cos(b) - 2 * torch.sin(b / 2) ** 2, torch.exp(a) * torch.sin(b)
        norm = A_re**2 + A_im**2
        return a, b, (x_re * A_re + x_im * A_im) / norm, (x_im * A_re - x_re * A_im) / norm  # dB = expm1(dt A) / A

    def real_kernel(self, length) -> torch.Tensor:
        """K (dirs, H, length) as ``kernel`` computes it, in real arithmetic (float64) with one (H, N2, length)
        table of powers: the export path."""
        a, b, dB_re, dB_im = self.real_discrete(torch.float64)
        C_re, C_im = self.C[..., 0].double(), self.C[..., 1].double()  # (dirs, H, N2)
        W_re, W_im = C_re * dB_re - C_im * dB_im, C_re * dB_im + C_im * dB_re
        l = torch.arange(length, device=a.device, dtype=torch.float64)  # (T,)
        magnitude, phase = torch.exp(a.unsqueeze(-1) * l), b.unsqueeze(-1) * l  # (H, N2, T)
        K = (W_re.unsqueeze(-1) * magnitude * torch.cos(phase) - W_im.unsqueeze(-1) * magnitude * torch.sin(phase)).sum(
            2
        )
        return (2 * K).to(self.C.dtype)

    def forward(self, u: torch.Tensor, lengths: torch.Tensor, state: torch.Tensor | None, need_state: bool = True):
        """u (B, H, T), zero at padded steps; lengths (B,); state (B, H, N2) complex or None
        -> y (B, H, T) and the state after each sequence's last real step (None unless ``need_state``)."""
        if exporting():  # the output alone, with no complex number and no FFT (the final state is complex)
            if state is not None or need_state:
                raise NotImplementedError(
                    "an exported S4D forward computes outputs only (its final state is a complex "
                    "contraction); call it with need_state=False and no initial state, and "
                    "step() to carry a state"
                )
            K = self.real_kernel(u.shape[-1])
            y = direct_conv(u, K[0]) + self.D.unsqueeze(-1) * u
            return (y + direct_conv(u.flip(-1), K[1]).flip(-1) if K.shape[0] == 2 else y), None
        # at least float32 under mixed precision: cuFFT has no bfloat16, and half-precision spectra lose the
        # kernel's tail (float64 stays float64)
        with torch.autocast(u.device.type, enabled=False):
            y, final = self.convolve(u.to(torch.promote_types(u.dtype, torch.float32)), lengths, state, need_state)
        return y.to(u.dtype), final

    def convolve(self, u: torch.Tensor, lengths: torch.Tensor, state: torch.Tensor | None, need_state: bool):
        """``forward`` by FFT, in float32 or float64."""
        B, H, T = u.shape
        K, (dtA, dB, C, P, Q, S) = self.kernel(T)
        y = fft_conv(u, K[0]) + self.D.unsqueeze(-1) * u
        if K.shape[0] == 2:  # the backward reading: the same convolution on the reversed sequence
            y = y + fft_conv(u.flip(-1), K[1]).flip(-1)
        if state is not None:  # an initial state adds 2 Re(C dA^(t+1) s0) at every step
            y = y + mode_sum(C[0] * torch.exp(dtA) * state, P, Q, T)
        if not need_state:
            return y, None
        # the final state: sum_j dA^j dB u_(len-1-j), u read from each sequence's last real step backwards
        back = lengths.view(B, 1, 1) - 1 - torch.arange(T, device=u.device)  # (B, 1, T)
        u_back = u.gather(-1, back.clamp(min=0).expand(B, H, T)) * (back >= 0)
        u_back = (
            F.pad(u_back, (0, P.shape[-1] * S - T)).reshape(B, H, -1, S).transpose(0, 1).reshape(H, -1, S)
        )  # (H, B M, S)
        Qt = Q.transpose(1, 2)  # (H, S, N2): two real products, not one complex one of a real u
        inner = torch.complex(u_back @ Qt.real, u_back @ Qt.imag).view(H, B, -1, Q.shape[1])  # (H, B, M, N2)
        final = dB * (inner * P.transpose(1, 2).unsqueeze(1)).sum(2).transpose(0, 1)  # (B, H, N2)
        if state is not None:  # the initial state decays into the final one
            final = final + torch.exp(dtA * lengths.view(B, 1, 1).to(dtA.real.dtype)) * state
        return y, final

    def step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u (B, H), state (B, H, N2, 2) real and imaginary parts -> y (B, H), new state: the recurrence
        s' = dA s + dB u, y = 2 Re(C s') + D u (in real arithmetic while exporting: ``real_step``)."""
        if exporting():
            return self.real_step(u, state)
        dtA, dB, C = self.discrete()
        s = torch.exp(dtA) * torch.view_as_complex(state) + dB * u.unsqueeze(-1)  # (B, H, N2) complex
        return 2 * (C[0] * s).sum(-1).real + self.D * u, torch.view_as_real(s)

    def real_step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``step`` with each complex product written out in real arithmetic (twice the kernels: the export path)."""
        a, b, dB_re, dB_im = self.real_discrete(u.dtype)
        dA_re, dA_im = torch.exp(a) * torch.cos(b), torch.exp(a) * torch.sin(b)  # (H, N2)
        s_re, s_im, u = state[..., 0], state[..., 1], u.unsqueeze(-1)  # (B, H, N2) each, u (B, H, 1)
        new_re = dA_re * s_re - dA_im * s_im + dB_re * u
        new_im = dA_re * s_im + dA_im * s_re + dB_im * u
        C_re, C_im = self.C[0, ..., 0], self.C[0, ..., 1]  # (H, N2)
        y = 2 * (C_re * new_re - C_im * new_im).sum(-1) + self.D * u.squeeze(-1)
        return y, torch.stack([new_re, new_im], dim=-1)


class S4DLayer(nn.Module):
    def __init__(self, d_model: int, d_state: int, dropout: float, dirs: int):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.ssm = S4DKernel(d_model, d_state, dirs)
        self.mix = nn.Linear(d_model, 2 * d_model)
        self.dropout = nn.Dropout(dropout)

    def out(self, y: torch.Tensor) -> torch.Tensor:
        """The channel mixing after the SSM: (..., H) -> (..., H)"""
        return F.glu(self.mix(self.dropout(F.gelu(y))), dim=-1)


class S4D(nn.Module):
    width = Width("d_model")
    state_optional = True  # forward(..., need_state=False) skips the final state

    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_layers: int = 4,
        d_state: int = 64,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ):
        super().__init__()
        if d_state % 2:
            raise ValueError(
                f"d_state counts real dimensions, half of them complex conjugates: give an even number, got {d_state}"
            )
        self.input_size, self.d_model, self.num_layers, self.d_state = input_size, d_model, num_layers, d_state
        self.bidirectional = bidirectional
        self.input_proj = nn.Linear(input_size, d_model)
        self.layers = nn.ModuleList(
            S4DLayer(d_model, d_state, dropout, 2 if bidirectional else 1) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    @property
    def output_size(self) -> int:
        return self.d_model

    @property
    def causal(self) -> bool:
        return not self.bidirectional

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        state: torch.Tensor | None = None,
        need_state: bool = True,
    ):
        """x (B, T, C), mask (B, T), state (num_layers, B, d_model, d_state / 2, 2) (real and imaginary parts) or
        None -> (B, T, d_model) and the state after each sequence's last real step; None with ``need_state=False``
        (``run_encoder`` asks so: the final state is a contraction as costly as ~15 % of a layer)."""
        check_inputs(self, x, mask)
        keep = None if mask is None else mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        lengths = torch.full((x.shape[0],), x.shape[1], device=x.device) if mask is None else lengths_from_mask(mask)
        h, finals = self.input_proj(x), []
        for i, layer in enumerate(self.layers):
            u = layer.norm(h) if keep is None else layer.norm(h) * keep
            start = None if state is None else torch.view_as_complex(state[i].contiguous())  # (B, H, N2)
            y, final = layer.ssm(swap_time_channels(u), lengths, start, need_state)  # (B, H, T)
            h = h + layer.out(swap_time_channels(y))
            h = h if keep is None else h * keep
            finals.append(final)
        out = self.norm(h)
        return (out if keep is None else out * keep), (torch.view_as_real(torch.stack(finals)) if need_state else None)

    def start_state(self, like: torch.Tensor) -> list[torch.Tensor]:
        """Zeros, one (B, d_model, d_state / 2, 2) state per layer (the complex modes' real and imaginary
        parts), for a batch like ``like`` (B, C)."""
        return [like.new_zeros(like.shape[0], self.d_model, self.d_state // 2, 2) for _ in self.layers]

    def step(self, x: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x (B, C) -> (B, d_model), the new state: one step of the recurrence per layer, fixed cost."""
        if self.bidirectional:
            raise ValueError("a bidirectional S4D reads the future; build it with bidirectional=false to step")
        h, new = self.input_proj(x), []
        for layer, s in zip(self.layers, state):
            y, s = layer.ssm.step(layer.norm(h), s)
            h = h + layer.out(y)
            new.append(s)
        return self.norm(h), new


S4DDecoder = decoder_role(S4D)
