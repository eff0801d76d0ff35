"""The selective scan of Mamba (Gu & Dao 2023): a diagonal linear state-space recurrence whose step size and
input/output maps change at every step. For channels e (d_inner of them) and state entries n (d_state)::

    h_t[e, n] = exp(dt_t[e] A[e, n]) h_{t-1}[e, n] + dt_t[e] x_t[e] B_t[n]
    y_t[e]    = sum_n C_t[n] h_t[e, n]

``selective_scan_reference`` is that loop, left to autograd: readable, and the yardstick of the tests.

``selective_scan`` computes the same numbers with a backward pass written by hand (``SelectiveScan``). The
trap of a naive parallel scan is the (B, T, E, N) tensors: at T = 4096 each is 256 MiB, and a scan with
autograd keeps several of them. Here time is cut into chunks of ``chunk`` steps, laid out time-major so that
every step is one contiguous block:

* layout: a chunk's big tensors are (c, B, N, E), the channels contiguous, so that every sum over the N = 16
  state entries is a matrix product or a reduction along the E channels (a sum along a contiguous run of 16
  numbers is the slow way round: the readout took 7 times as long in the (E, N) layout on one CPU core); the
  (B, T, E) streams stay batch-first and each chunk reads them through time-major views and writes its slice
  of the results: a time-major copy of a whole stream is a fresh 16 MiB tensor at T = 4096, whose first touch
  page by page cost more than the copying (8 ms each on one core, ~8 of them per training step);
* forward, per chunk: the decays ``exp(dt A)`` and inputs ``dt x B`` for the whole chunk in one operation
  each (``dt x`` is recomputed in the backward pass rather than kept), the recurrence (one fused multiply-add
  per step, in place), the readout ``C . h`` as one matrix product; only the state entering each chunk is kept
  (B, N, E per chunk);
* backward, per chunk from the last: the chunk's states are recomputed from the kept one, the adjoint
  recurrence ``g_t = C_t gy_t + a_{t+1} g_{t+1}`` runs backwards in time, and every gradient is a matrix
  product or an elementwise product over the chunk.

So memory grows with T only through (B, T, E) streams, the big tensors stay the size of one chunk (in cache on
a CPU), and nothing is divided or taken the log of: exact up to rounding at any step size. On a CPU the loop
over time is a Python loop of one operation per step. On a GPU that would be a kernel launch per step, which
leaves an H200 idle (80k tokens/s at any length, 0.08x the cuDNN LSTM: ``docs/results/bench_long.json``), so there
(``parallel``) a chunk holds up to ``PARALLEL_ELEMENTS`` numbers per (chunk, B, E, N) tensor (4,096 steps at
batch 4, d_inner 256, d_state 16) and both recurrences inside it run as ``linear_scan.chunked_scan``: about
2 sqrt(chunk) steps over whole tensors instead of chunk steps, the same numbers (tested on the CPU by asking
for it), more memory per chunk, which a GPU has. ``scripts/count_ops.py`` counts the operations: one
training step at T = 16384, batch 4, goes from 78,549 to 8,549 (``docs/results/count_ops.json``).
"""

import torch

from seqzoo.layers import time_blocks
from seqzoo.layers.linear_scan import chunked_scan
from seqzoo.layers.time_loop import loop_over_time

MIN_CHUNK = 16  # smaller chunks of a huge batch would pay more per-step Python than they gain in cache
PARALLEL_ELEMENTS = 1 << 26  # numbers per (chunk, B, E, N) tensor on a GPU: 256 MiB in float32


def selective_scan_reference(x, dt, A, B, C, h):
    """The recurrence step by step. x, dt (B, T, E); A (E, N); B, C (B, T, N); h (B, E, N) -> y (B, T, E), h."""

    def step(h, inputs):
        x_t, dt_t, B_t, C_t = inputs  # (B, E), (B, E), (B, N), (B, N)
        h = torch.exp(dt_t[:, :, None] * A) * h + (dt_t * x_t)[:, :, None] * B_t[:, None, :]  # (B, E, N)
        return h, (h * C_t[:, None, :]).sum(-1)  # (B, E)

    h, y = loop_over_time(step, h, (x, dt, B, C))
    return y, h


def chunk_states(dt, u, At, B, h0, a, hs, parallel: bool):
    """One chunk, time-major: dt, u = dt x (c, B, E); At = A transposed (N, E); B (c, B, N); h0 (B, N, E).
    Fills the decays a (c, B, N, E) and the states hs (c + 1, B, N, E), the entering state first (buffers reused
    across chunks: a fresh multi-megabyte tensor per chunk costs more in page faults than the arithmetic)."""
    torch.mul(dt.unsqueeze(2), At, out=a).exp_()  # a_t = exp(dt_t A)
    hs[0] = h0
    torch.mul(B.unsqueeze(-1), u.unsqueeze(2), out=hs[1:])  # the inputs dt x B, overwritten by the states
    if parallel:
        hs[1:] = chunked_scan(a.transpose(0, 1), hs[1:].transpose(0, 1), h0).transpose(0, 1)
        return
    h, a_t = hs.unbind(0), a.unbind(0)  # views made once: indexing inside the loop costs as much as the step
    for t in range(len(a_t)):
        torch.addcmul(h[t + 1], a_t[t], h[t], out=h[t + 1])  # h_t = a_t h_{t-1} + b_t


def adjoint(g, a, parallel: bool) -> None:
    """In place, backwards in time: g_t += a_{t+1} g_{t+1} (g, a: (c, B, N, E))."""
    if parallel:  # the same recurrence read from the end: decay a_{c-j} at reversed step j (a_0 meets a zero state)
        rev = chunked_scan(a.roll(-1, 0).flip(0).transpose(0, 1), g.flip(0).transpose(0, 1), torch.zeros_like(g[0]))
        g.copy_(rev.transpose(0, 1).flip(0))
        return
    g_t, a_t = g.unbind(0), a.unbind(0)
    for t in reversed(range(len(g_t) - 1)):
        torch.addcmul(g_t[t], a_t[t + 1], g_t[t + 1], out=g_t[t])


def buffers(chunk: int, h0: torch.Tensor, n: int):
    """n workspaces of (chunk + 1, B, N, E) for the per-chunk tensors (h0: (B, N, E))."""
    return [h0.new_empty(chunk + 1, *h0.shape) for _ in range(n)]


class SelectiveScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, dt, A, B, C, h0, chunk: int, parallel: bool = False):
        At, h = A.t().contiguous(), h0.transpose(1, 2).contiguous()  # (N, E), (B, N, E)
        y = x.new_empty(x.shape)  # (B, T, E)
        a_buf, hs_buf = buffers(chunk, h, 2)
        u_buf, y_buf = h.new_empty(chunk, *h.shape[::2]), h.new_empty(chunk, h.shape[0], 1, h.shape[2])
        entering = []
        for s in range(0, x.shape[1], chunk):
            x_c, dt_c, B_c, C_c = time_major(s, chunk, x, dt, B, C)  # (c, B, E) or (c, B, N): views
            c = len(x_c)
            entering.append(h)
            u = torch.mul(dt_c, x_c, out=u_buf[:c])  # dt x: (c, B, E)
            chunk_states(dt_c, u, At, B_c, h, a_buf[:c], hs_buf[: c + 1], parallel)
            torch.matmul(C_c.unsqueeze(2), hs_buf[1 : c + 1], out=y_buf[:c])  # sum_n C h: (c, B, 1, E)
            y[:, s : s + c] = y_buf[:c].squeeze(2).transpose(0, 1)
            h = hs_buf[c].clone()  # a copy: the buffer is overwritten by the next chunk
        ctx.chunk, ctx.parallel = chunk, parallel
        ctx.save_for_backward(x, dt, At, B, C, *entering)
        return y, h.transpose(1, 2).contiguous()

    @staticmethod
    def backward(ctx, gy, gh):
        x, dt, At, B, C, *entering = ctx.saved_tensors
        # batch-first and contiguous: torch.compile's traced backward assumes the layout of its inputs
        gx, gdt, gB, gC = (v.new_empty(v.shape) for v in (x, dt, B, C))
        gAt = torch.zeros_like(At)  # (N, E)
        a_buf, hs_buf, g_buf = buffers(ctx.chunk, entering[0], 3)
        u_buf = x.new_empty(ctx.chunk, *entering[0].shape[::2])  # (chunk, B, E)
        # dL/dh at the chunk's last step, from later chunks: (B, N, E)
        carry = torch.zeros_like(entering[0]) if gh is None else gh.transpose(1, 2).contiguous()
        for k in reversed(range(len(entering))):
            s = k * ctx.chunk
            x_c, dt_c, B_c, C_c, gy_c = time_major(s, ctx.chunk, x, dt, B, C, gy)
            c = len(x_c)
            a, hs, g = a_buf[:c], hs_buf[: c + 1], g_buf[:c]
            u = torch.mul(dt_c, x_c, out=u_buf[:c])  # dt x, recomputed: (c, B, E)
            chunk_states(dt_c, u, At, B_c, entering[k], a, hs, ctx.parallel)
            torch.mul(C_c.unsqueeze(-1), gy_c.unsqueeze(2), out=g)  # (c, B, N, E): dy_t/dh_t, then dL/dh_t
            g[-1] += carry
            adjoint(g, a, ctx.parallel)  # g_t += a_{t+1} g_{t+1}
            carry = a[0] * g[0]
            gu = torch.matmul(B_c.unsqueeze(2), g).squeeze(2)  # (c, B, E): sum_n B g
            # sums over the channels, as (1, E) x (E, N) products: (c, B, 1, N)
            gB[:, s : s + c] = torch.matmul(u.unsqueeze(2), g.transpose(2, 3)).squeeze(2).transpose(0, 1)  # u g
            gC[:, s : s + c] = torch.matmul(gy_c.unsqueeze(2), hs[1:].transpose(2, 3)).squeeze(2).transpose(0, 1)
            gz = g.mul_(hs[:-1]).mul_(a)  # dL/d(dt A): g_t h_{t-1} a_t, in place of g
            gAt += torch.mul(gz, dt_c.unsqueeze(2), out=a).sum((0, 1))  # sum over steps and batch of gz dt
            gdt[:, s : s + c] = (gz.mul_(At).sum(2) + gu * x_c).transpose(0, 1)  # sum_n gz A
            gx[:, s : s + c] = (gu * dt_c).transpose(0, 1)
        return gx, gdt, gAt.t(), gB, gC, carry.transpose(1, 2), None, None


def time_major(start: int, chunk: int, *streams: torch.Tensor):
    """Steps start .. start + chunk of batch-first streams (B, T, ...) as time-major views (c, B, ...): no copy
    of the whole sequence (a fresh multi-megabyte tensor costs more in page faults than its arithmetic)."""
    return [v[:, start : start + chunk].transpose(0, 1) for v in streams]


@torch.compiler.disable  # torch.compile would unroll its loop step by step (minutes of compiling): it runs as written
def selective_scan(x, dt, A, B, C, h0, chunk: int = 64, parallel: bool | None = None):
    """The same arguments and results as ``selective_scan_reference``, at most ``chunk`` steps at a time: on
    a CPU fewer (not under ``MIN_CHUNK``) when a chunk's (chunk, B, E, N) tensors would hold more than
    ``time_blocks.ELEMENTS`` numbers, so that they stay in cache at large batches (``python scripts/bench_long.py
    --models mamba,mamba:chunk=16 --batch 64 --width 78 --lengths 272 --baseline mamba`` shows the difference).
    Under autocast (16-mixed, bf16-mixed) it runs in float32: the state accumulates over thousands of steps, and
    its buffers take one dtype. ``parallel`` (default: on any device but a CPU) scans inside chunks of up to
    ``PARALLEL_ELEMENTS`` numbers (module docstring)."""
    device = x.device.type
    parallel = device != "cpu" if parallel is None else parallel
    if parallel:
        chunk = max(chunk, PARALLEL_ELEMENTS // h0.numel())  # h0 (B, E, N): numbers per step of a chunk
    elif device == "cpu":
        chunk = min(chunk, max(MIN_CHUNK, time_blocks.ELEMENTS // h0.numel()))
    chunk = max(1, min(chunk, x.shape[1]))  # the buffers are chunk steps long: no longer than the sequence
    if torch.is_autocast_enabled(device):
        with torch.autocast(device, enabled=False):
            return SelectiveScan.apply(*(v.float() for v in (x, dt, A, B, C, h0)), chunk, parallel)
    return SelectiveScan.apply(x, dt, A, B, C, h0, chunk, parallel)
