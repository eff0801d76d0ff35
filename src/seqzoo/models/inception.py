"""InceptionTime's network (Ismail Fawaz et al. 2020, "InceptionTime: Finding AlexNet for Time Series
Classification"). The paper's classifier is an ensemble of five of these networks trained from different
seeds (``ensemble=5`` in seqzoo); one network is ``model=inception``.

One Inception module, on x (B, C, T):

    z = W_b x                                    bottleneck: 1x1 convolution to ``bottleneck`` channels (C > 1)
    y_k = conv_k(z)   for k in kernel_sizes      long, medium and short filters side by side (40, 20, 10)
    y_p = W_p maxpool_3(x)                       3-step max pooling of the input, then a 1x1 convolution
    out = relu(BN([y_40; y_20; y_10; y_p]))      4 x ``filters`` channels

Six modules in a row; every third one's output adds a shortcut from the input of the three (a 1x1 convolution
and batch norm) before its ReLU. The many-to-one task pools the mean over real steps and classifies (the
paper's global average pooling), so the backbone returns every step (B, T, 4 x filters). Each module reaches
max(kernel) - 1 more steps: 1 + 6 x 39 = 235 (``receptive_field``), the point of the long filters.

As the authors' code (hfawaz/InceptionTime ``classifiers/inception.py``: 32 filters, bottleneck 32, kernel 41 - 1 =
40 halved twice, convolutions without bias, Keras 'same' padding). Where we differ: PyTorch's batch-norm momentum
and epsilon; padded steps left out of batch statistics, zeroed before every convolution and never chosen by the
max pooling (``layers.masked_conv``); ``causal=True`` pads on the left only; optional dropout after each module.
"""

import torch
from torch import nn

from seqzoo.layers.masked_conv import MaskedBatchNorm1d, SameConv1d, masked_max_pool, run_blocks
from seqzoo.layers.masking import check_inputs
from seqzoo.models.interface import Width


class InceptionModule(nn.Module):
    def __init__(self, c_in: int, filters: int, bottleneck: int, kernel_sizes: list[int], causal: bool, dropout: float):
        super().__init__()
        self.bottleneck = SameConv1d(c_in, bottleneck, 1, bias=False) if c_in > 1 and bottleneck else None
        width = bottleneck if self.bottleneck is not None else c_in
        self.branches = nn.ModuleList(SameConv1d(width, filters, k, causal, bias=False) for k in kernel_sizes)
        self.pool_conv = SameConv1d(c_in, filters, 1, bias=False)
        self.norm = MaskedBatchNorm1d(filters * (len(kernel_sizes) + 1))
        self.causal, self.dropout = causal, nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, T), zero at padded steps -> (B, 4 x filters, T); ``shortcut`` is added before the ReLU."""
        z = x if self.bottleneck is None else self.bottleneck(x)  # (B, bottleneck, T)
        pooled = self.pool_conv(masked_max_pool(x, keep, 3, self.causal))  # (B, filters, T)
        h = self.norm(torch.cat([*(branch(z) for branch in self.branches), pooled], 1), keep)
        return self.dropout(torch.relu(h if shortcut is None else h + shortcut))


class InceptionStage(nn.Module):
    """``depth`` modules whose last adds a shortcut from the stage's input: BN(W x), a 1x1 convolution."""

    def __init__(self, c_in: int, depth: int, residual: bool, **module):
        super().__init__()
        c_out = module["filters"] * (len(module["kernel_sizes"]) + 1)
        self.chain = nn.ModuleList(InceptionModule(c_in if i == 0 else c_out, **module) for i in range(depth))
        self.project = SameConv1d(c_in, c_out, 1, bias=False) if residual else None
        self.norm = MaskedBatchNorm1d(c_out) if residual else None

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, T) -> (B, C_out, T), zero at padded steps"""
        h = x
        for module in self.chain[:-1]:
            h = module(h, keep)
        shortcut = None if self.project is None else self.norm(self.project(x), keep)
        return self.chain[-1](h, keep, shortcut)  # zero at padded steps: the norms and the shortcut are


class InceptionTime(nn.Module):
    """``depth`` Inception modules of ``filters`` channels per branch; a shortcut every ``residual_every``."""

    width = Width("filters")
    every_step = True  # built for raw series: many-to-one feeds it every step, not patches (models.interface)

    def __init__(
        self,
        input_size: int,
        filters: int = 32,
        bottleneck: int = 32,
        kernel_sizes: list[int] = (40, 20, 10),
        depth: int = 6,
        residual_every: int | None = 3,
        dropout: float = 0.0,
        causal: bool = False,
    ):
        super().__init__()
        if depth < 1 or not kernel_sizes or min(kernel_sizes) < 1:
            raise ValueError(f"need depth >= 1 and kernels >= 1, got {depth} and {list(kernel_sizes)}")
        self.input_size, self.causal = input_size, causal
        every = residual_every or depth
        sizes = [every] * (depth // every) + ([depth % every] if depth % every else [])  # modules per stage
        module = dict(filters=filters, bottleneck=bottleneck, kernel_sizes=list(kernel_sizes), causal=causal)
        self.output_size = filters * (len(kernel_sizes) + 1)
        widths = [input_size] + [self.output_size] * len(sizes)
        self.blocks = nn.ModuleList(
            InceptionStage(widths[i], n, bool(residual_every) and n == every, dropout=dropout, **module)
            for i, n in enumerate(sizes)
        )
        self.receptive_field = 1 + depth * (max(*kernel_sizes, 3) - 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, 4 x filters)"""
        check_inputs(self, x, mask)
        return run_blocks(self.blocks, x, mask)
