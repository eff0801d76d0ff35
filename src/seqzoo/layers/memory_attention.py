"""Attention of a decoder's states over an encoder memory, as in RNN translation models.

Scores (query q, memory step m):
- ``dot``      q . m                      (Luong et al. 2015; needs equal sizes)
- ``general``  q . W m                    (Luong et al. 2015)
- ``additive`` v . tanh(W_q q + W_m m)    (Bahdanau et al. 2015)

The memory-side projection is computed once per sequence (``keys``), not once per decoding step.
"""

import torch
from torch import nn

SCORES = ("dot", "general", "additive")


class MemoryAttention(nn.Module):
    def __init__(self, kind: str, query_size: int, memory_size: int, attention_size: int | None = None):
        super().__init__()
        if kind not in SCORES:
            raise ValueError(f"unknown attention {kind!r}; choose one of {', '.join(SCORES)}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(
                f"dot attention needs equal sizes, got query {query_size} and memory {memory_size}; use 'general'"
            )
        self.kind = kind
        if kind == "general":
            self.key_proj = nn.Linear(memory_size, query_size, bias=False)
        elif kind == "additive":
            attention_size = attention_size or query_size
            self.key_proj = nn.Linear(memory_size, attention_size, bias=False)
            self.query_proj = nn.Linear(query_size, attention_size, bias=True)
            self.v = nn.Linear(attention_size, 1, bias=False)
        # Luong's attentional state tanh(W_c [q; c]): mixes what the decoder knows with what it read
        self.combine = nn.Linear(query_size + memory_size, query_size, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (B, S, M) -> keys (B, S, K), the part of the score that does not depend on the query."""
        return memory if self.kind == "dot" else self.key_proj(memory)

    def context(self, query, memory, keys, memory_mask=None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, T, Q) -> context (B, T, M) and attention weights (B, T, S), zero on padded memory."""
        if self.kind == "additive":
            scores = self.v(torch.tanh(self.query_proj(query).unsqueeze(2) + keys.unsqueeze(1))).squeeze(
                -1
            )  # (B, T, S)
        else:
            scores = query @ keys.transpose(1, 2)  # (B, T, S)
        if memory_mask is not None:
            scores = scores.masked_fill(~memory_mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ memory, weights

    def forward(self, query, memory, keys, memory_mask=None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, T, Q) -> attentional state tanh(W_c [q; c]) (B, T, Q) and weights (B, T, S)"""
        context, weights = self.context(query, memory, keys, memory_mask)
        return torch.tanh(self.combine(torch.cat([query, context], dim=-1))), weights
