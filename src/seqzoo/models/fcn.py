"""Fully convolutional network for time-series classification (Wang, Yan & Oates 2017, "Time Series
Classification from Scratch with Deep Neural Networks: A Strong Baseline").

Three blocks, each a Conv1d over time, batch normalisation and ReLU:

    h1 = relu(BN(conv_8(x)))      filters      (kernel 8)
    h2 = relu(BN(conv_5(h1)))     2 x filters  (kernel 5)
    h3 = relu(BN(conv_3(h2)))     filters      (kernel 3)

then, in the paper, global average pooling and a softmax layer: here the many-to-one task pools (the mean over
real steps, its default for a non-causal backbone) and classifies, so the backbone returns h3 at every step
(B, T, filters) and also serves aligned tagging. No pooling between blocks, stride 1, so each output sees
1 + 7 + 4 + 2 = 14 steps (``receptive_field``): the classifier averages local shapes over the whole series.

As the authors' code (hfawaz/dl-4-tsc ``classifiers/fcn.py``, the figures of Ismail Fawaz et al. 2019): 128, 256,
128 filters, kernels 8, 5, 3, Keras 'same' padding (an even kernel looks one step further ahead than back).
Where we differ: PyTorch's batch-norm momentum (0.1, Keras 0.01) and epsilon (1e-5, Keras 1e-3); padded steps
are excluded from batch statistics and zeroed before every convolution (``layers.masked_conv``), so a padded
batch gives each row the numbers it gets alone (in evaluation; in training batch norm mixes rows by design);
``causal=True`` pads on the left only; optional dropout after each block (0 in the paper).
"""

import torch
from torch import nn

from seqzoo.layers.masked_conv import ConvNormAct, run_blocks
from seqzoo.layers.masking import check_inputs
from seqzoo.models.interface import Width


class FCN(nn.Module):
    """``filters`` times ``multipliers`` gives each block's width; ``kernel_sizes`` one kernel per block."""

    width = Width("filters")
    every_step = True  # built for raw series: many-to-one feeds it every step, not patches (models.interface)

    def __init__(
        self,
        input_size: int,
        filters: int = 128,
        multipliers: list[int] = (1, 2, 1),
        kernel_sizes: list[int] = (8, 5, 3),
        dropout: float = 0.0,
        causal: bool = False,
    ):
        super().__init__()
        if len(multipliers) != len(kernel_sizes) or not kernel_sizes or min(kernel_sizes) < 1:
            raise ValueError(
                f"need one multiplier per kernel and kernels >= 1, got {list(multipliers)} and {list(kernel_sizes)}"
            )
        self.input_size, self.causal = input_size, causal
        widths = [input_size, *(filters * m for m in multipliers)]
        self.blocks = nn.ModuleList(
            ConvNormAct(widths[i], widths[i + 1], k, causal, dropout) for i, k in enumerate(kernel_sizes)
        )
        self.receptive_field = 1 + sum(k - 1 for k in kernel_sizes)

    @property
    def output_size(self) -> int:
        return self.blocks[-1].conv.out_channels

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, D)"""
        check_inputs(self, x, mask)
        return run_blocks(self.blocks, x, mask)
