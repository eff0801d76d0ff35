"""Recurrent backbones: RNN, LSTM and GRU, written as their cell equations, plus a fused fast path.

Parameter names, shapes and initialisation are torch.nn's (``weight_ih_l0``, ``weight_hh_l1_reverse``, ...)
so a state_dict moves between seqzoo and torch.nn in both directions. Two implementations share those
parameters, chosen by ``impl``:

- ``"reference"``: the equations below in plain PyTorch, one time step at a time. Read this to learn.
- ``"fused"`` (default): the same parameters through torch's fused RNN kernels (cuDNN on GPU). Use this to train.

Exported to ONNX, either runs as the reference (one ``Scan`` node over time, any length, masks included).

Always batch first. A right-padded ``mask`` ``(B, T)`` (True = real step) makes padded steps output zeros
and leaves each sequence's final state at its last real step, as torch.nn does on a packed sequence.

``RNNDecoder``, the decoder role: recurrent decoder for generation, with optional attention over an encoder memory.

- ``attention=None``: a plain conditional RNN; the output is the top layer's hidden state.
- ``"dot"`` / ``"general"`` (Luong et al. 2015): the RNN reads the inputs alone and each new state then
  attends to the memory, so a teacher-forced pass is one fused RNN call plus one batched attention.
- ``"additive"`` (Bahdanau et al. 2015): each step attends with the previous state and feeds the context
  into the RNN, so even the teacher-forced pass runs step by step.

A conditioning vector (B, K) (``condition_size``) sets the initial hidden state of every layer:
tanh(W c). Outputs are (B, T, hidden_size) either way, and ``step`` gives exactly what ``forward`` gives.
"""

import math

import torch
import torch.nn.functional as F
from torch import _VF, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from seqzoo.layers.batch_select import select_batch
from seqzoo.layers.masking import check_inputs, check_mask, lengths_from_mask
from seqzoo.layers.memory_attention import MemoryAttention
from seqzoo.layers.time_loop import exporting, loop_over_time
from seqzoo.models.interface import Width

State = tuple[torch.Tensor, ...]  # (h,) or (h, c); each (B, H) inside a layer, (L * dirs, B, H) outside


# ---- one time step of each cell; gx = W_ih x + b_ih is computed for all steps at once ----------------


def rnn_tanh_step(gx: torch.Tensor, state: State, w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> State:
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"""
    return (torch.tanh(gx + F.linear(state[0], w_hh, b_hh)),)


def rnn_relu_step(gx: torch.Tensor, state: State, w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> State:
    """h' = relu(W_ih x + b_ih + W_hh h + b_hh)"""
    return (torch.relu(gx + F.linear(state[0], w_hh, b_hh)),)


def lstm_step(gx: torch.Tensor, state: State, w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> State:
    """Input, forget, cell and output gates (torch's order); the cell state c is the path gradients keep."""
    h, c = state
    i, f, g, o = (gx + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)  # 4 x (B, H)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def gru_step(gx: torch.Tensor, state: State, w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> State:
    """Reset r, update z, candidate n (torch's order); the reset gate scales W_hh h + b_hn, as in cuDNN."""
    h = state[0]
    x_r, x_z, x_n = gx.chunk(3, dim=-1)  # 3 x (B, H)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


STEPS = {"RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step, "LSTM": lstm_step, "GRU": gru_step}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
FUSED = {"RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu, "LSTM": _VF.lstm, "GRU": _VF.gru}


def scan(step, gx, state: State, w_hh, b_hh, mask: torch.Tensor | None, reverse: bool):
    """Run ``step`` over time. gx (B, T, G*H) -> outputs (B, T, H) and the final state.

    At a padded step the state is carried unchanged and the output is zero; running backwards over a
    right-padded row therefore starts from the initial state at the row's last real step.
    """

    def one_step(state: State, inputs) -> tuple[State, torch.Tensor]:
        new = step(inputs[0], state, w_hh, b_hh)
        if mask is None:
            return new, new[0]
        real = inputs[1][:, None]  # (B, 1)
        new = tuple(torch.where(real, n, s) for n, s in zip(new, state))
        return new, new[0] * real

    final, outputs = loop_over_time(one_step, state, (gx,) if mask is None else (gx, mask), reverse)
    return outputs, final


def init_uniform_(module: nn.Module, hidden_size: int) -> None:
    """torch.nn's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class Recurrent(nn.Module):
    """Stacked, optionally bidirectional recurrence; RNN, LSTM and GRU below only choose the cell."""

    mode = "LSTM"
    width = Width("hidden_size")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "fused",
    ):
        super().__init__()
        if not batch_first:
            raise ValueError("seqzoo recurrent modules are always batch first: (B, T, C); drop batch_first=False")
        if impl not in ("fused", "reference"):
            raise ValueError(f"impl must be 'fused' or 'reference', got {impl!r}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"need num_layers >= 1 and hidden_size >= 1, got {num_layers} and {hidden_size}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.dropout, self.bidirectional, self.impl = bias, float(dropout), bidirectional, impl
        self.suffixes = ["", "_reverse"] if bidirectional else [""]
        gate_size = GATES[self.mode] * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * len(self.suffixes)
            for sfx in self.suffixes:
                self.register_parameter(f"weight_ih_l{layer}{sfx}", nn.Parameter(torch.empty(gate_size, layer_input)))
                self.register_parameter(f"weight_hh_l{layer}{sfx}", nn.Parameter(torch.empty(gate_size, hidden_size)))
                if bias:
                    self.register_parameter(f"bias_ih_l{layer}{sfx}", nn.Parameter(torch.empty(gate_size)))
                    self.register_parameter(f"bias_hh_l{layer}{sfx}", nn.Parameter(torch.empty(gate_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_uniform_(self, self.hidden_size)

    @property
    def output_size(self) -> int:
        return self.hidden_size * len(self.suffixes)

    @property
    def causal(self) -> bool:
        """One direction only: step t has read steps <= t."""
        return not self.bidirectional

    def layer_weights(self, layer: int, sfx: str) -> list[torch.Tensor]:
        """[w_ih, w_hh, b_ih, b_hh] (biases only when ``bias``), the order torch's kernels expect."""
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        return [getattr(self, f"{n}_l{layer}{sfx}") for n in names]

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, state=None
    ) -> tuple[torch.Tensor, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        """x (B, T, C), mask (B, T) -> output (B, T, dirs * H) and state in torch.nn's layout."""
        check_inputs(self, x, mask)
        if mask is not None and not exporting() and bool(mask.all()):
            mask = None  # nothing is padded: take the faster unpacked path
        states = self._initial_state(x, state)  # each (L * dirs, B, H)
        # export: the equations, through a loop ONNX keeps (torch's fused kernels on packed data do not export)
        run = self._forward_fused if self.impl == "fused" and not exporting() else self._forward_reference
        output, states = run(x, mask, states)
        return output, (states if self.mode == "LSTM" else states[0])

    def _initial_state(self, x: torch.Tensor, state) -> State:
        shape = (self.num_layers * len(self.suffixes), x.shape[0], self.hidden_size)
        if state is None:
            zeros = torch.zeros(shape, dtype=x.dtype, device=x.device)
            return (zeros, zeros) if self.mode == "LSTM" else (zeros,)
        states = tuple(state) if self.mode == "LSTM" else (state,)
        for s in states:
            if tuple(s.shape) != shape:
                raise ValueError(f"initial state must be (layers * directions, B, H) = {shape}, got {tuple(s.shape)}")
        return states

    def _forward_reference(self, x: torch.Tensor, mask: torch.Tensor | None, states: State):
        step, finals, layer_input = STEPS[self.mode], [], x
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
            outputs = []
            for d, sfx in enumerate(self.suffixes):
                w_ih, w_hh, *b = self.layer_weights(layer, sfx)
                b_ih, b_hh = b if b else (None, None)
                gx = F.linear(layer_input, w_ih, b_ih)  # (B, T, G*H): the input half of every gate, all steps
                start = tuple(s[layer * len(self.suffixes) + d] for s in states)  # each (B, H)
                out, final = scan(step, gx, start, w_hh, b_hh, mask, reverse=d == 1)
                outputs.append(out)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1)  # (B, T, dirs * H)
        states = tuple(torch.stack([f[k] for f in finals]) for k in range(len(states)))  # (L * dirs, B, H)
        return layer_input, states

    def flat_weights(self) -> list[torch.Tensor]:
        return [w for layer in range(self.num_layers) for sfx in self.suffixes for w in self.layer_weights(layer, sfx)]

    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        self.flatten_parameters()  # after .to() / .cuda(), as torch.nn does
        return out

    def flatten_parameters(self) -> None:
        """On CUDA with cuDNN, gather all weights into the one contiguous buffer cuDNN reads, so the fused
        kernel does not copy them on every call. The parameters stay, as views into that buffer; a no-op on CPU."""
        weights = self.flat_weights()
        dtype = weights[0].dtype
        if not all(w.is_cuda and w.dtype == dtype and torch.backends.cudnn.is_acceptable(w) for w in weights):
            return
        if len({w.data_ptr() for w in weights}) != len(weights) or not torch._use_cudnn_rnn_flatten_weight():
            return
        from torch.backends.cudnn import rnn as cudnn_rnn

        with torch.cuda.device_of(weights[0]), torch.no_grad():
            torch._cudnn_rnn_flatten_weight(
                weights,
                4 if self.bias else 2,
                self.input_size,
                cudnn_rnn.get_cudnn_mode(self.mode),
                self.hidden_size,
                0,
                self.num_layers,
                True,
                self.bidirectional,
            )

    # Eager under torch.compile, as torch keeps nn.RNN out of compiled graphs: on an H200 (torch 2.11) tracing
    # cuDNN's call with fake tensors raised, and compiling a single fused kernel gains nothing.
    @torch.compiler.disable
    def _forward_fused(self, x: torch.Tensor, mask: torch.Tensor | None, states: State):
        if x.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN builds its bf16 LSTM only on CPUs with bf16 instructions ("could not create a primitive
            # descriptor" elsewhere, as on an AMD EPYC); the recurrence runs in float32, as such a CPU would anyway
            with torch.autocast("cpu", enabled=False):
                return self._forward_fused(x.float(), mask, tuple(s.float() for s in states))
        weights = self.flat_weights()
        hx = states if self.mode == "LSTM" else states[0]
        flags = (self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        if mask is None:
            output, *states = FUSED[self.mode](x, hx, weights, *flags, True)
            return output.contiguous(), tuple(states)  # batch-first in memory (the kernel's is a time-major view)
        packed = pack_padded_sequence(x, lengths_from_mask(mask).cpu(), batch_first=True, enforce_sorted=False)
        hx = tuple(s.index_select(1, packed.sorted_indices) for s in states)
        data, *states = FUSED[self.mode](
            packed.data, packed.batch_sizes, hx if self.mode == "LSTM" else hx[0], weights, *flags
        )
        packed_out = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        output, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=x.shape[1])
        return output.contiguous(), tuple(s.index_select(1, packed.unsorted_indices) for s in states)

    def extra_repr(self) -> str:
        extra = ", bidirectional=True" if self.bidirectional else ""
        return f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}{extra}, impl={self.impl!r}"


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), as torch.nn.LSTM without projections.

    ``forget_bias`` (e.g. 1.0, Gers et al. 2000) starts the forget gate open: b_ih of the forget gate is set
    to it and b_hh's to 0, so the cell state carries gradients across many more steps at initialisation.
    ``None`` keeps torch.nn's initialisation.
    """

    mode = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "fused",
        forget_bias: float | None = None,
    ):
        self.forget_bias = forget_bias
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, impl)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if self.forget_bias is None or not self.bias:
            return
        h = self.hidden_size
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("bias_ih"):
                    p[h : 2 * h] = self.forget_bias  # gates are ordered i, f, g, o
                elif name.startswith("bias_hh"):
                    p[h : 2 * h] = 0.0


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al. 2014), as torch.nn.GRU."""

    mode = "GRU"


class RNN(Recurrent):
    """Elman RNN with tanh or relu, as torch.nn.RNN."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: str = "fused",
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode = f"RNN_{nonlinearity.upper()}"
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, impl)


# ---- single cells, for users who write their own loops ------------------------------------------------


class Cell(nn.Module):
    """One step of a recurrence with torch.nn's cell parameters (``weight_ih``, ``weight_hh``, ...)."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        gate_size = GATES[self.mode] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gate_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gate_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gate_size)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(gate_size)) if bias else None
        init_uniform_(self, hidden_size)

    def forward(self, x: torch.Tensor, state=None):
        """x (B, C) and h (B, H), or (h, c) for the LSTM -> the next state, in the same form."""
        zeros = x.new_zeros(x.shape[0], self.hidden_size)
        if state is None:
            state = (zeros, zeros) if self.mode == "LSTM" else zeros
        states = tuple(state) if self.mode == "LSTM" else (state,)
        new = STEPS[self.mode](F.linear(x, self.weight_ih, self.bias_ih), states, self.weight_hh, self.bias_hh)
        return new if self.mode == "LSTM" else new[0]


class LSTMCell(Cell):
    mode = "LSTM"


class GRUCell(Cell):
    mode = "GRU"


class RNNCell(Cell):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode = f"RNN_{nonlinearity.upper()}"
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias)


CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class RNNDecoder(nn.Module):
    width = Width("hidden_size")

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "lstm",
        attention: str | None = "general",
        memory_size: int | None = None,
        condition_size: int | None = None,
        dropout: float = 0.0,
        impl: str = "fused",
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if attention and memory_size is None:
            raise ValueError("attention needs memory_size, the feature size of the encoder memory")
        self.hidden_size, self.num_layers, self.feeds_context = hidden_size, num_layers, attention == "additive"
        rnn_input = input_size + (memory_size if self.feeds_context else 0)
        self.rnn = CELLS[cell](rnn_input, hidden_size, num_layers, dropout=dropout, impl=impl)
        self.attention = MemoryAttention(attention, hidden_size, memory_size) if attention else None
        self.init_hidden = nn.Linear(condition_size, num_layers * hidden_size) if condition_size else None

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def init_state(self, memory=None, memory_mask=None, condition=None, *, hidden=None) -> dict:
        """hidden: an initial RNN state in torch.nn's layout; else one made from ``condition``; else zeros."""
        if hidden is None and condition is not None and self.init_hidden is not None:
            h = torch.tanh(self.init_hidden(condition)).view(-1, self.num_layers, self.hidden_size).transpose(0, 1)
            hidden = (
                (h.contiguous(), torch.zeros_like(h)) if isinstance(self.rnn, LSTM) else h.contiguous()
            )  # (L, B, H)
        if memory_mask is not None:
            check_mask(memory_mask, memory, "memory_mask")
        keys = self.attention.keys(memory) if self.attention is not None and memory is not None else None
        return {"rnn": hidden, "memory": memory, "memory_mask": memory_mask, "keys": keys}

    def reorder_state(self, state: dict, index: torch.Tensor) -> dict:
        """Keep the rows ``index`` of the batch (beam search); RNN states are (L, B, H), the rest batch first."""
        rest = select_batch({k: v for k, v in state.items() if k != "rnn"}, index, 0)
        return {**rest, "rnn": select_batch(state["rnn"], index, 1)}

    def forward(self, x, memory=None, memory_mask=None, condition=None, hidden=None, return_attention: bool = False):
        """x (B, T, C) embedded targets, memory (B, S, M), memory_mask (B, S), condition (B, K) -> (B, T, hidden_size);
        with ``return_attention`` also the attention weights (B, T, S), or None without attention."""
        state = self.init_state(memory, memory_mask, condition, hidden=hidden)
        if self.feeds_context:
            outs, weights = [], []
            for t in range(x.shape[1]):
                outs.append(self.step(x[:, t], state)[0])
                weights.append(state["weights"])
            out, weights = torch.stack(outs, dim=1), torch.cat(weights, dim=1)
        else:
            h, _ = self.rnn(x, state=state["rnn"])  # (B, T, H)
            out, weights = self.attend(h, state)
        return (out, weights) if return_attention else out

    def attend(self, h: torch.Tensor, state: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.attention is None or state["memory"] is None:
            return h, None
        return self.attention(h, state["memory"], state["keys"], state["memory_mask"])

    def step(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """x (B, C) one embedded token -> (B, hidden_size); ``state`` is updated in place and returned."""
        x = x.unsqueeze(1)  # (B, 1, C)
        if not self.feeds_context:
            h, state["rnn"] = self.rnn(x, state=state["rnn"])
            out, state["weights"] = self.attend(h, state)
            return out.squeeze(1), state
        query = self.top_hidden(state["rnn"], x)  # (B, 1, H): the previous state asks
        context, state["weights"] = self.attention.context(
            query, state["memory"], state["keys"], state["memory_mask"]
        )  # (B, 1, M)
        h, state["rnn"] = self.rnn(torch.cat([x, context], dim=-1), state=state["rnn"])
        out = torch.tanh(self.attention.combine(torch.cat([h, context], dim=-1)))
        return out.squeeze(1), state

    def top_hidden(self, rnn_state, x: torch.Tensor) -> torch.Tensor:
        """The last layer's hidden state (B, 1, H); zeros before the first step when no state was given."""
        if rnn_state is None:
            return x.new_zeros(x.shape[0], 1, self.hidden_size)
        h = rnn_state[0] if isinstance(rnn_state, tuple) else rnn_state  # (L * dirs, B, H)
        return h[-1].unsqueeze(1)
