"""Transformer encoder and decoder (Vaswani et al. 2017), pre-norm or post-norm, batch first.

Attention runs through ``F.scaled_dot_product_attention`` (``seqzoo.layers.attention``). With
``norm_first=False`` and weights copied over, an ``EncoderLayer`` computes what
``torch.nn.TransformerEncoderLayer`` computes. The decoder's ``step`` keeps a key/value cache per layer,
so incremental decoding gives the teacher-forced outputs at O(T) per step.
"""

import torch
from torch import nn

from seqzoo.layers.attention import MultiHeadAttention
from seqzoo.layers.batch_select import select_batch
from seqzoo.layers.conv_embedding import ConvEmbedding
from seqzoo.layers.masking import check_inputs, check_mask
from seqzoo.layers.positional import positional
from seqzoo.models.interface import Width

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


def activation_type(activation) -> type[nn.Module]:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; choose {', '.join(ACTIVATIONS)} or pass a module type"
            )
        return ACTIVATIONS[activation]
    return activation


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, dim_feedforward: int, dropout: float, activation):
        super().__init__(
            nn.Linear(d_model, dim_feedforward),
            activation_type(activation)(),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )


class Residual(nn.Module):
    """x + dropout(f(x)), with LayerNorm before f (pre-norm) or after the sum (post-norm)."""

    def __init__(self, d_model: int, dropout: float, norm_first: bool, eps: float = 1e-5):
        super().__init__()
        self.norm, self.dropout, self.norm_first = nn.LayerNorm(d_model, eps=eps), nn.Dropout(dropout), norm_first

    def forward(self, x: torch.Tensor, f) -> torch.Tensor:
        if self.norm_first:
            return x + self.dropout(f(self.norm(x)))
        return self.norm(x + self.dropout(f(x)))


class EncoderLayer(nn.Module):
    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dim_feedforward: int,
        dropout: float = 0.1,
        activation="relu",
        norm_first: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.attn_block = Residual(d_model, dropout, norm_first)
        self.ff = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.ff_block = Residual(d_model, dropout, norm_first)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, causal: bool = False) -> torch.Tensor:
        """x (B, T, D), mask (B, T) -> (B, T, D)"""
        x = self.attn_block(x, lambda h: self.self_attn(h, key_mask=mask, causal=causal))
        return self.ff_block(x, self.ff)


def copy_torch_encoder_layer(ours: EncoderLayer, ref: nn.TransformerEncoderLayer) -> None:
    """Load a ``torch.nn.TransformerEncoderLayer``'s weights into ours: torch packs q, k, v into one
    ``in_proj``; ours keeps three Linear layers."""
    sd = ref.state_dict()
    for name, w, b in zip(
        ["q_proj", "k_proj", "v_proj"], sd["self_attn.in_proj_weight"].chunk(3), sd["self_attn.in_proj_bias"].chunk(3)
    ):
        getattr(ours.self_attn, name).weight.data.copy_(w)
        getattr(ours.self_attn, name).bias.data.copy_(b)
    ours.self_attn.out_proj.load_state_dict(ref.self_attn.out_proj.state_dict())
    ours.ff[0].load_state_dict(ref.linear1.state_dict())
    ours.ff[3].load_state_dict(ref.linear2.state_dict())
    ours.attn_block.norm.load_state_dict(ref.norm1.state_dict())
    ours.ff_block.norm.load_state_dict(ref.norm2.state_dict())


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention over the memory (when there is one), feed-forward."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dim_feedforward: int,
        dropout: float = 0.1,
        activation="relu",
        norm_first: bool = True,
    ):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.self_block = Residual(d_model, dropout, norm_first)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_block = Residual(d_model, dropout, norm_first)
        self.ff = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.ff_block = Residual(d_model, dropout, norm_first)

    def forward(
        self, x, memory=None, memory_mask=None, mask=None, cache: dict | None = None, weights: list | None = None
    ):
        """x (B, T, D), memory (B, S, D), memory_mask (B, S), mask (B, T) or (B, cached + T) -> (B, T, D).
        A ``weights`` list receives the cross-attention weights (B, T, S)."""
        x = self.self_block(
            x, lambda h: self.self_attn(h, key_mask=mask, causal=True, cache=None if cache is None else cache["self"])
        )
        if memory is not None:
            cross = None if cache is None else cache["cross"]

            def attend(h):
                if weights is None:
                    return self.cross_attn(h, memory, key_mask=memory_mask, cache=cross)
                out, w = self.cross_attn(h, memory, key_mask=memory_mask, cache=cross, need_weights=True)
                weights.append(w)
                return out

            x = self.cross_block(x, attend)
        return self.ff_block(x, self.ff)


class TransformerEncoder(nn.Module):
    """(B, T, C) features -> embedding -> positions -> layers -> (B, T, d_model).

    The embedding is a convolution over ``embed_kernel`` steps (``layers.conv_embedding``; 1 is the
    per-step linear projection of the 2017 paper, which gives a univariate series a rank-one embedding).
    """

    width = Width("d_model", multiple_of="num_heads")

    def __init__(
        self,
        input_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        activation="gelu",
        norm_first: bool = True,
        causal: bool = False,
        positional_encoding: str | None = "sinusoidal",
        max_len: int = 4096,
        embed_kernel: int = 5,
    ):
        super().__init__()
        self.input_size, self.d_model, self.causal = input_size, d_model, causal
        self.input_proj = ConvEmbedding(input_size, d_model, embed_kernel, causal)
        self.positions = positional(positional_encoding, d_model, max_len)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, num_heads, dim_feedforward, dropout, activation, norm_first)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()  # pre-norm leaves the sum unnormalised
        self.max_len = max_len

    @property
    def output_size(self) -> int:
        return self.d_model

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, d_model)"""
        check_inputs(self, x, mask)
        h = self.dropout(self.positions(self.input_proj(x, mask)))  # (B, T, D)
        for layer in self.layers:
            h = layer(h, mask, self.causal)
        return self.norm(h)


class TransformerDecoder(nn.Module):
    """Causal decoder over input embeddings (B, T, C), attending to an optional memory (B, S, memory_size).

    ``forward`` is teacher-forced over a whole prefix; ``init_state`` + ``step`` decode one position at a
    time with a key/value cache and give the same outputs. A conditioning vector (B, K) becomes one more
    memory slot, in front of the memory (a prefix the decoder attends to).
    """

    width = Width("d_model", multiple_of="num_heads")

    def __init__(
        self,
        input_size: int,
        d_model: int = 128,
        num_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 256,
        dropout: float = 0.1,
        activation="gelu",
        norm_first: bool = True,
        positional_encoding: str | None = "sinusoidal",
        max_len: int = 4096,
        memory_size: int | None = None,
        condition_size: int | None = None,
    ):
        super().__init__()
        self.d_model = d_model
        self.input_proj = nn.Linear(input_size, d_model)
        self.memory_proj = nn.Linear(memory_size, d_model) if memory_size not in (None, d_model) else nn.Identity()
        self.condition_proj = nn.Linear(condition_size, d_model) if condition_size else None
        self.positions = positional(positional_encoding, d_model, max_len)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            DecoderLayer(d_model, num_heads, dim_feedforward, dropout, activation, norm_first)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    @property
    def output_size(self) -> int:
        return self.d_model

    def memory(self, memory=None, memory_mask=None, condition=None):
        """Project the memory to d_model and put the condition in front of it: (B, 1 + S, D), (B, 1 + S)."""
        if memory_mask is not None:
            check_mask(memory_mask, memory, "memory_mask")
        memory = None if memory is None else self.memory_proj(memory)
        if condition is None or self.condition_proj is None:
            return memory, memory_mask
        slot = self.condition_proj(condition).unsqueeze(1)  # (B, 1, D)
        if memory is None:
            return slot, None
        if memory_mask is not None:
            memory_mask = torch.cat([memory_mask.new_ones(memory_mask.shape[0], 1), memory_mask], dim=1)
        return torch.cat([slot, memory], dim=1), memory_mask

    def forward(self, x, memory=None, memory_mask=None, condition=None, mask=None, return_attention: bool = False):
        """x (B, T, C) embedded targets, memory (B, S, M), condition (B, K), masks bool -> (B, T, d_model);
        with ``return_attention`` also the last layer's cross-attention (B, T, S), condition slot first."""
        memory, memory_mask = self.memory(memory, memory_mask, condition)
        h, weights = self.dropout(self.positions(self.input_proj(x))), [] if return_attention else None
        for layer in self.layers:
            h = layer(h, memory, memory_mask, mask, weights=weights)
        if return_attention:
            return self.norm(h), weights[-1] if weights else None
        return self.norm(h)

    def init_state(self, memory=None, memory_mask=None, condition=None) -> dict:
        """The decoding state: projected memory, one cache per layer (no keys yet for self-attention, the
        memory's for cross-attention), the next position per row (B,). Tensors only, one structure from the
        first step to the last, so beam search reorders it and ONNX export carries it."""
        memory, memory_mask = self.memory(memory, memory_mask, condition)
        if memory is None:  # no batch to size the cache by: filled at the first step
            return {
                "memory": None,
                "memory_mask": None,
                "caches": [{"self": {}, "cross": {}} for _ in self.layers],
                "pos": 0,
            }
        caches = [
            {"self": layer.self_attn.start_cache(memory), "cross": layer.cross_attn.start_cache(memory, memory)}
            for layer in self.layers
        ]
        pos = torch.zeros(memory.shape[0], dtype=torch.long, device=memory.device)  # (B,)
        return {"memory": memory, "memory_mask": memory_mask, "caches": caches, "pos": pos}

    def reorder_state(self, state: dict, index: torch.Tensor) -> dict:
        return select_batch(state, index, 0)

    def step(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """x (B, C) one embedded token -> (B, d_model) and the state advanced by one position."""
        h = self.dropout(self.positions(self.input_proj(x).unsqueeze(1), offset=state["pos"]))  # (B, 1, D)
        for layer, cache in zip(self.layers, state["caches"]):
            h = layer(h, state["memory"], state["memory_mask"], cache=cache)
        state["pos"] = state["pos"] + 1
        return self.norm(h).squeeze(1), state
