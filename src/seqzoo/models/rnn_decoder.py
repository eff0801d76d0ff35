"""Recurrent decoder for generation, with optional attention over an encoder memory.

- ``attention=None``: a plain conditional RNN; the output is the top layer's hidden state.
- ``"dot"`` / ``"general"`` (Luong et al. 2015): the RNN reads the inputs alone and each new state then
  attends to the memory, so a teacher-forced pass is one fused RNN call plus one batched attention.
- ``"additive"`` (Bahdanau et al. 2015): each step attends with the previous state and feeds the context
  into the RNN, so even the teacher-forced pass runs step by step.

A conditioning vector (B, K) (``condition_size``) sets the initial hidden state of every layer:
tanh(W c). Outputs are (B, T, hidden_size) either way, and ``step`` gives exactly what ``forward`` gives.
"""

import torch
from torch import nn

from seqzoo.layers.batch_select import select_batch
from seqzoo.layers.masking import check_mask
from seqzoo.layers.memory_attention import MemoryAttention
from seqzoo.models.interface import Width
from seqzoo.models.rnn import GRU, LSTM, RNN

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

    def init_state(self, memory=None, memory_mask=None, condition=None, hidden=None) -> dict:
        """hidden: an initial RNN state in torch.nn's layout; else one made from ``condition``; else zeros."""
        if hidden is None and condition is not None and self.init_hidden is not None:
            h = torch.tanh(self.init_hidden(condition)).view(-1, self.num_layers, self.hidden_size).transpose(0, 1)
            hidden = (h.contiguous(), torch.zeros_like(h)) if isinstance(self.rnn, LSTM) else h.contiguous()  # (L, B, H)
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
        state = self.init_state(memory, memory_mask, condition, hidden)
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
        context, state["weights"] = self.attention.context(query, state["memory"], state["keys"], state["memory_mask"])  # (B, 1, M)
        h, state["rnn"] = self.rnn(torch.cat([x, context], dim=-1), state=state["rnn"])
        out = torch.tanh(self.attention.combine(torch.cat([h, context], dim=-1)))
        return out.squeeze(1), state

    def top_hidden(self, rnn_state, x: torch.Tensor) -> torch.Tensor:
        """The last layer's hidden state (B, 1, H); zeros before the first step when no state was given."""
        if rnn_state is None:
            return x.new_zeros(x.shape[0], 1, self.hidden_size)
        h = rnn_state[0] if isinstance(rnn_state, tuple) else rnn_state  # (L * dirs, B, H)
        return h[-1].unsqueeze(1)
