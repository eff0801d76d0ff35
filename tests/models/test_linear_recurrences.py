"""LRU, Hawk's RG-LRU, Mamba-2 and mLSTM: each fast path (a parallel scan; chunks of matrix products) equals its
readable recurrence (float64 to 1e-10 with gradients, float32 within a rounding bound), the readable recurrence
equals the papers' equations written independently (complex arithmetic; the gated decay), and the
initialisations are the papers' rings."""

import math

import pytest
import torch
import torch.nn.functional as F

from seqzoo.layers.linear_scan import linear_recurrence_loop, linear_scan
from seqzoo.models import LRU, MLSTM, Hawk, Mamba2
from seqzoo.models.mamba2 import ssd_chunked, ssd_reference
from seqzoo.models.mlstm import mlstm_chunked, mlstm_reference
from tests.tolerance import assert_within

C = 3
FAMILIES = {"lru": LRU, "rglru": Hawk, "mamba2": Mamba2, "mlstm": MLSTM}


def pair(family, dtype, **kwargs):
    torch.manual_seed(0)
    fast = family(C, d_model=16, num_layers=2, **kwargs).to(dtype)
    reference = family(C, d_model=16, num_layers=2, impl="reference", **kwargs).to(dtype)
    reference.load_state_dict(fast.state_dict())
    return fast, reference


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("T", [1, 5, 300])
def test_the_scan_equals_the_recurrence_in_float64_with_gradients(name, T):
    fast, reference = pair(FAMILIES[name], torch.float64)
    x = torch.randn(3, T, C, dtype=torch.float64)
    mask = torch.ones(3, T, dtype=torch.bool)
    mask[1, T // 2 + 1 :] = False
    (out, state), (want, want_state) = fast(x, mask), reference(x, mask)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-10)
    for got, ref in zip(torch.utils._pytree.tree_leaves(state), torch.utils._pytree.tree_leaves(want_state)):
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-10)
    grads = torch.autograd.grad(out.square().sum(), list(fast.parameters()))
    wants = torch.autograd.grad(want.square().sum(), list(reference.parameters()))
    for g, w in zip(grads, wants):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-10 * max(1.0, float(w.abs().max())))


@pytest.mark.parametrize("name", FAMILIES)
def test_the_scan_in_float32_is_within_rounding_of_the_float64_recurrence(name):
    fast, _ = pair(FAMILIES[name], torch.float32)
    _, reference = pair(FAMILIES[name], torch.float64)
    T, x = 2048, torch.randn(2, 2048, C)
    out, want = fast(x)[0], reference(x.double())[0]
    # a chain of T steps per block, two blocks, after inner products of up to 3 * 16 terms (the MLP's widest) or,
    # in SSD, sums of up to d_state + chunk terms
    depth = 2 * (T + 48 + 64 + 64)
    assert_within(out, want, torch.float32, depth, f"{name}: float32 fast path against the float64 loop")


def test_the_complex_scan_has_the_gradients_of_the_loop():
    a = (0.95 * torch.rand(2, 23, 4, dtype=torch.complex128)).requires_grad_()
    b = torch.randn(2, 23, 4, dtype=torch.complex128, requires_grad=True)
    h0 = torch.randn(2, 4, dtype=torch.complex128, requires_grad=True)
    assert torch.autograd.gradcheck(linear_scan, (a, b, h0))
    torch.testing.assert_close(linear_scan(a, b, h0), linear_recurrence_loop(a, b, h0), rtol=0, atol=1e-12)


def test_an_lru_block_is_the_papers_complex_recurrence():
    torch.manual_seed(1)
    model = LRU(C, d_model=8, num_layers=1, d_state=5).double()
    block, x = model.layers[0], torch.randn(2, 30, C, dtype=torch.float64)
    out = model(x)[1][0]  # the block's final state (B, N, 2)
    # the equations in complex arithmetic, from the parameters
    lam = torch.exp(-torch.exp(block.nu_log) + 1j * torch.exp(block.theta_log))
    B = torch.complex(block.B[0], block.B[1])
    u = block.norm(model.input_proj(x)).to(torch.complex128)
    h = torch.zeros(2, 5, dtype=torch.complex128)
    for t in range(30):
        h = lam * h + torch.exp(block.gamma_log) * (u[:, t] @ B.T)
    torch.testing.assert_close(torch.view_as_complex(out.contiguous()), h, rtol=0, atol=1e-12)


def test_the_lru_starts_on_its_ring_with_unit_gain():
    torch.manual_seed(0)
    block = LRU(C, d_state=4000, num_layers=1, r_min=0.4, r_max=0.8, max_phase=0.5).layers[0]
    with torch.no_grad():
        lam_re, lam_im = block.decay()
    radius, phase = torch.hypot(lam_re, lam_im), torch.atan2(lam_im, lam_re)
    assert 0.4 - 1e-6 <= float(radius.min()) and float(radius.max()) <= 0.8 + 1e-6
    assert 0 <= float(phase.min()) and float(phase.max()) <= 0.5 + 1e-6
    # uniform by area: the median of |lambda|^2 is the middle of [r_min^2, r_max^2] (4000 draws: ~1.5 % spread)
    assert abs(float(radius.square().median()) - (0.16 + 0.64) / 2) < 0.02
    torch.testing.assert_close(torch.exp(block.gamma_log.detach()), torch.sqrt(1 - radius.square()))
    with pytest.raises(ValueError, match="r_min < r_max <= 1"):
        LRU(C, r_min=0.5, r_max=1.2)
    generic = LRU(C, d_state=500, num_layers=1, r_min=0.0, r_max=1.0, max_phase=2 * math.pi)  # the paper's generic
    assert all(torch.isfinite(p).all() for p in generic.parameters())


def test_the_rg_lru_decay_is_gated_between_one_and_a_to_the_eighth():
    torch.manual_seed(0)
    rglru = Hawk(C, d_model=8, num_layers=1).double().layers[0].rglru
    base = torch.exp(-F.softplus(rglru.L))  # a: the decay at gate r = 1/8
    assert 0.9 - 1e-6 <= float(base.min()) and float(base.max()) <= 0.999 + 1e-6
    x = torch.randn(5, 8, dtype=torch.float64)
    a, b = rglru(x)
    r, i = (torch.sigmoid(g) for g in rglru.gates(x))
    torch.testing.assert_close(a, base ** (8 * r))
    torch.testing.assert_close(b, torch.sqrt(1 - a**2) * i * x)
    with torch.no_grad():  # a gate shut (r -> 0): the state is kept whole and nothing enters
        rglru.gates.bias[:, : rglru.gates.bias.shape[1] // 2] = -60  # each head's r gate
    a, b = rglru(x)
    assert float((1 - a).abs().max()) < 1e-20 and float(b.abs().max()) <= 1e-3 * float(x.abs().max())


@pytest.mark.parametrize("name", FAMILIES)
def test_long_sequences_keep_a_bounded_state(name):
    """The normalisations (gamma in LRU, sqrt(1 - a^2) in RG-LRU) keep a slow mode's state the size of its
    inputs rather than 1 / (1 - |a|) times it."""
    torch.manual_seed(0)
    model = FAMILIES[name](C, d_model=16, num_layers=1)
    with torch.no_grad():
        out, state = model(torch.randn(1, 4096, C))
    h = torch.utils._pytree.tree_leaves(state)[-1]
    assert torch.isfinite(out).all() and float(h.abs().max()) < 30, float(h.abs().max())


@pytest.mark.parametrize("chunk", [1, 3, 16, 64, 1000])
def test_ssd_by_chunks_equals_the_recurrence_for_any_chunk_length(chunk):
    """Chunks that divide T or not, one step long, or longer than the sequence; a state carried in; steps with
    dt = 0 (padding) in the middle of a chunk."""
    torch.manual_seed(0)
    Bsz, T, H, P, N = 2, 50, 3, 4, 5
    x, B, C = (torch.randn(Bsz, T, *s, dtype=torch.float64) for s in ((H, P), (N,), (N,)))
    dt = torch.rand(Bsz, T, H, dtype=torch.float64)
    dt[:, 20:23] = 0
    A, h0 = -torch.rand(H, dtype=torch.float64) * 4, torch.randn(Bsz, H, P, N, dtype=torch.float64)
    y, h = ssd_chunked(x, dt, A, B, C, h0, chunk)
    want, want_h = ssd_reference(x, dt, A, B, C, h0)
    torch.testing.assert_close(y, want, rtol=0, atol=1e-10)
    torch.testing.assert_close(h, want_h, rtol=0, atol=1e-10)


def test_ssd_is_the_papers_recurrence_per_head():
    """The reference, checked against the per-head equations with explicit loops over heads."""
    torch.manual_seed(1)
    Bsz, T, H, P, N = 1, 6, 2, 3, 4
    x, B, C = (torch.randn(Bsz, T, *s, dtype=torch.float64) for s in ((H, P), (N,), (N,)))
    dt, A = torch.rand(Bsz, T, H, dtype=torch.float64), -torch.rand(H, dtype=torch.float64)
    y = ssd_reference(x, dt, A, B, C, torch.zeros(Bsz, H, P, N, dtype=torch.float64))[0]
    for head in range(H):
        h = torch.zeros(P, N, dtype=torch.float64)
        for t in range(T):
            h = torch.exp(dt[0, t, head] * A[head]) * h + dt[0, t, head] * torch.outer(x[0, t, head], B[0, t])
            torch.testing.assert_close(y[0, t, head], h @ C[0, t], rtol=0, atol=1e-12)


def mlstm_inputs(T, regime, Bsz=2, H=3, Dh=4):
    torch.manual_seed(0)
    q, k, v = (torch.randn(Bsz, T, H, Dh, dtype=torch.float64) for _ in range(3))
    i_pre, f_pre = torch.randn(Bsz, T, H, dtype=torch.float64), torch.randn(Bsz, T, H, dtype=torch.float64) + 3
    if regime == "extremes":  # input gates up to e^40 and forgetting at e^-30 per step: the stabiliser at work
        i_pre, f_pre = 20 * i_pre, 10 * f_pre - 60
    log_f = F.logsigmoid(f_pre)
    i_pre[-1, T // 2 :], log_f[-1, T // 2 :] = -math.inf, 0.0  # padding (the last row): i = 0, f = 1
    state = (torch.randn(Bsz, H, Dh, Dh, dtype=torch.float64), torch.randn(Bsz, H, Dh, dtype=torch.float64))
    return q, k, v, i_pre, log_f, (*state, torch.randn(Bsz, H, dtype=torch.float64))


@pytest.mark.parametrize("chunk", [1, 3, 16, 1000])
@pytest.mark.parametrize("regime", ["plain", "extremes"])
def test_mlstm_by_chunks_equals_the_recurrence(chunk, regime):
    q, k, v, i_pre, log_f, state = mlstm_inputs(40, regime)
    h, final = mlstm_chunked(q, k, v, i_pre, log_f, state, chunk)
    want, want_final = mlstm_reference(q, k, v, i_pre, log_f, state)
    torch.testing.assert_close(h, want, rtol=1e-10, atol=1e-10)
    for got, ref in zip(final, want_final):  # C, n and m: the same stabiliser, so the same numbers
        torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)


def test_the_mlstm_stabiliser_cancels_h_is_the_unscaled_formula():
    """h_t = C_t q_t / max(|n_t . q_t|, 1) with C and n summed without any stabiliser (float64, moderate gates)."""
    q, k, v, i_pre, log_f, _ = mlstm_inputs(12, "plain", Bsz=2, H=1)
    zero = (torch.zeros(2, 1, 4, 4, dtype=torch.float64), torch.zeros(2, 1, 4, dtype=torch.float64))
    h = mlstm_reference(q, k, v, i_pre, log_f, (*zero, torch.zeros(2, 1, dtype=torch.float64)))[0]
    C, n = torch.zeros(4, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for t in range(12):  # row 0: no padding
        f, i = torch.exp(log_f[0, t, 0]), torch.exp(i_pre[0, t, 0])
        C, n = f * C + i * torch.outer(v[0, t, 0], k[0, t, 0]), f * n + i * k[0, t, 0]
        want = C @ q[0, t, 0] / torch.clamp((n @ q[0, t, 0]).abs(), min=1.0)
        torch.testing.assert_close(h[0, t, 0], want, rtol=1e-12, atol=1e-12)
