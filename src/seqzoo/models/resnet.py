"""Residual network for time-series classification (Wang, Yan & Oates 2017, the ResNet that Ismail Fawaz
et al. 2019 found the strongest of nine deep classifiers on the UCR archive).

Three residual blocks; block b has three convolutions (kernels 8, 5, 3), each with batch normalisation:

    h = relu(BN(conv_8(x)))
    h = relu(BN(conv_5(h)))
    h = BN(conv_3(h))
    out = relu(h + BN(conv_1(x)))     the shortcut: a 1x1 convolution where the width changes, else BN(x)

Widths ``filters`` x (1, 2, 2) = 64, 128, 128. The many-to-one task pools the mean over real steps and
classifies (the paper's global average pooling and softmax), so the backbone returns every step (B, T, D) and
serves aligned tagging too. Each block adds 7 + 4 + 2 steps of reach: 1 + 3 x 13 = 40 (``receptive_field``).

As the authors' code (hfawaz/dl-4-tsc ``classifiers/resnet.py``). Where we differ: PyTorch's batch-norm momentum and
epsilon; padded steps left out of batch statistics and zeroed before every convolution (``layers.masked_conv``);
``causal=True`` pads on the left only; optional dropout after each activation (0 in the paper).
"""

import torch
from torch import nn

from seqzoo.layers.masked_conv import ConvNormAct, MaskedBatchNorm1d, SameConv1d, run_blocks
from seqzoo.layers.masking import check_inputs
from seqzoo.models.interface import Width


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel_sizes: list[int], causal: bool, dropout: float):
        super().__init__()
        widths = [c_in] + [c_out] * len(kernel_sizes)
        last = len(kernel_sizes) - 1
        self.convs = nn.ModuleList(
            ConvNormAct(widths[i], widths[i + 1], k, causal, dropout, act=i < last) for i, k in enumerate(kernel_sizes)
        )
        self.project = SameConv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.norm = MaskedBatchNorm1d(c_out)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """x (B, C, T), zero at padded steps -> (B, C_out, T), zero at padded steps"""
        h = x
        for conv in self.convs:
            h = conv(h, keep)
        return self.dropout(torch.relu(h + self.norm(self.project(x), keep)))


class ResNet(nn.Module):
    """``filters`` times ``multipliers`` gives each block's width; ``kernel_sizes`` the convolutions in every block."""

    width = Width("filters")
    every_step = True  # built for raw series: many-to-one feeds it every step, not patches (models.interface)

    def __init__(
        self,
        input_size: int,
        filters: int = 64,
        multipliers: list[int] = (1, 2, 2),
        kernel_sizes: list[int] = (8, 5, 3),
        dropout: float = 0.0,
        causal: bool = False,
    ):
        super().__init__()
        if not multipliers or not kernel_sizes or min(kernel_sizes) < 1:
            raise ValueError(f"need blocks and kernels >= 1, got {list(multipliers)} and {list(kernel_sizes)}")
        self.input_size, self.causal = input_size, causal
        widths = [input_size, *(filters * m for m in multipliers)]
        self.blocks = nn.ModuleList(
            ResidualBlock(widths[i], widths[i + 1], list(kernel_sizes), causal, dropout)
            for i in range(len(multipliers))
        )
        self.receptive_field = 1 + len(multipliers) * sum(k - 1 for k in kernel_sizes)

    @property
    def output_size(self) -> int:
        return self.blocks[-1].norm.num_features

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, D)"""
        check_inputs(self, x, mask)
        return run_blocks(self.blocks, x, mask)
