"""Multi-head attention through ``F.scaled_dot_product_attention``, so flash and memory-efficient kernels
run on GPU, with a key/value cache for incremental decoding."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqzoo.layers.time_loop import exporting


def attention_mask(key_mask: torch.Tensor | None, t_q: int, t_k: int, causal: bool, device) -> torch.Tensor | None:
    """Bool mask, True = may attend, broadcastable to (B, heads, T_q, T_k); None when nothing is masked.

    Causal queries are the last ``t_q`` of ``t_k`` positions (so a cached step at position t sees 0..t).
    """
    mask = None
    if causal:
        q_pos = torch.arange(t_k - t_q, t_k, device=device)[:, None]  # (T_q, 1)
        mask = (torch.arange(t_k, device=device)[None, :] <= q_pos)[None, None]  # (1, 1, T_q, T_k)
    if key_mask is not None:
        keys = key_mask[:, None, None, :]  # (B, 1, 1, T_k)
        mask = keys if mask is None else mask & keys
    return mask


class MultiHeadAttention(nn.Module):
    """Self-attention (``memory=None``) or cross-attention over ``memory``.

    ``cache`` is a dict this module fills: for self-attention it appends each step's keys and values, for
    cross-attention it keeps the projected memory, so a step costs O(T) instead of re-running the prefix.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.num_heads, self.dropout = num_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, heads, T, D / heads)"""
        return x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def start_cache(self, like: torch.Tensor, memory: torch.Tensor | None = None) -> dict:
        """A cache filled before the first step, so that a decoding state keeps one structure (and exports):
        self-attention (``memory=None``) starts with no keys (B, heads, 0, d) for a batch like ``like`` (B, ...);
        cross-attention holds the memory's keys and values, projected once."""
        if memory is not None:
            return {"k": self.heads(self.k_proj(memory)), "v": self.heads(self.v_proj(memory))}
        empty = like.new_zeros(
            like.shape[0], self.num_heads, 0, self.k_proj.out_features // self.num_heads
        )  # (B, h, 0, d)
        return {"k": empty, "v": empty.clone()}

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
        causal: bool = False,
        cache: dict | None = None,
        need_weights: bool = False,
    ):
        """x (B, T_q, D), memory (B, T_k, D), key_mask (B, T_k) over the keys (cached ones included) -> (B, T_q, D),
        and with ``need_weights`` the attention weights averaged over heads (B, T_q, T_k), computed explicitly."""
        q = self.heads(self.q_proj(x))  # (B, h, T_q, d)
        if memory is not None and cache is not None and "k" in cache:
            k, v = cache["k"], cache["v"]  # cross-attention: memory projected once
        else:
            source = x if memory is None else memory
            k, v = self.heads(self.k_proj(source)), self.heads(self.v_proj(source))  # (B, h, T_k, d)
            if cache is not None and memory is None and "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            if cache is not None:
                cache["k"], cache["v"] = k, v
        causal = causal and memory is None
        dropout = self.dropout if self.training else 0.0
        if need_weights:  # the slow, explicit path: only for looking at the weights
            mask = attention_mask(key_mask, q.shape[2], k.shape[2], causal, x.device)
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, h, T_q, T_k)
            weights = scores.masked_fill(~mask, float("-inf")).softmax(-1) if mask is not None else scores.softmax(-1)
            out = self.out_proj((weights @ v).transpose(1, 2).flatten(2))
            return out, weights.mean(1)
        if causal and key_mask is None and q.shape[2] == k.shape[2] and not exporting():
            # no explicit mask: lets SDPA pick the flash kernel on GPU
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        else:
            mask = attention_mask(key_mask, q.shape[2], k.shape[2], causal, x.device)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        return self.out_proj(out.transpose(1, 2).flatten(2))  # (B, T_q, D)
