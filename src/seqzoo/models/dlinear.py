"""DLinear: a direct forecaster made of two linear maps over time (Zeng, Chen, Zhang & Xu 2023, "Are Transformers
Effective for Time Series Forecasting?", AAAI).

Each target channel of the context x (L steps) is split into a trend and a remainder, and each part is mapped
to the whole horizon (H steps) by one linear layer over time:

    trend     = moving_average_k(x)            (L,)   the mean of k steps centred on each step
    remainder = x - trend                      (L,)
    forecast  = W_t trend + b_t + W_r remainder + b_r   (H,)   W_t, W_r: (H, L)

The moving average repeats the first and last values beyond the ends, so the trend has L steps and does not
sag towards zero at the window's edges. The paper's default is one pair of maps shared by every channel
(``individual: false``; ``true``: a pair per channel) and k = 25.

Where we differ: a probabilistic output (quantiles, a distribution's parameters) is ``outputs`` maps of each
kind instead of one, every one a linear function of the same two parts; the window's scaling (the context's mean
and standard deviation, the forecast task's default) plays the part of the paper's per-series normalisation.
A kernel longer than the context is cut to the longest odd kernel that fits. Known future features (calendar,
covariates, lags) are not read: the model sees its target's own past, as in the paper.
"""

import torch
from torch import nn

from seqzoo.models.interface import check_context, forecaster_sizes


def moving_average(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """x (B, L, C) -> its centred moving average (B, L, C), the ends padded by repeating the edge values."""
    front, back = (kernel - 1) // 2, kernel // 2
    padded = torch.cat([x[:, :1].expand(-1, front, -1), x, x[:, -1:].expand(-1, back, -1)], 1)  # (B, L+k-1, C)
    return padded.unfold(1, kernel, 1).mean(-1)  # (B, L, C)


class DLinear(nn.Module):
    """``forward(x (B, L, C)) -> (B, H, K, outputs)``: the first ``num_targets`` channels of x are forecast."""

    forecaster = True  # maps a whole context to a whole horizon (models.interface): task=forecast only
    causal = True  # the forecast reads the context only: nothing from the horizon it forecasts

    def __init__(
        self,
        context: int,
        horizon: int,
        input_size: int = 1,
        num_targets: int | None = None,
        outputs: int = 1,
        kernel_size: int = 25,
        individual: bool = False,
    ):
        super().__init__()
        self.K = forecaster_sizes(context, horizon, input_size, num_targets, outputs=outputs, kernel_size=kernel_size)
        self.context, self.horizon, self.outputs = context, horizon, outputs
        self.kernel_size = kernel_size if kernel_size <= context else context - (1 - context % 2)
        maps = self.K if individual else 1
        # one weight per (map, output, horizon step, context step); nn.Linear's initialisation, as the paper's code
        self.trend = nn.ModuleList(nn.Linear(context, horizon * outputs) for _ in range(maps))
        self.remainder = nn.ModuleList(nn.Linear(context, horizon * outputs) for _ in range(maps))

    def zero_forecast(self) -> None:
        """Every map to zero: the model forecasts 0, so a correction to a baseline starts as the baseline."""
        for layer in (*self.trend, *self.remainder):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = check_context(self, x, mask)[..., : self.K]  # (B, L, K)
        trend = moving_average(x, self.kernel_size)  # (B, L, K)
        parts = (trend.transpose(1, 2), (x - trend).transpose(1, 2))  # (B, K, L) each
        if len(self.trend) == 1:
            y = self.trend[0](parts[0]) + self.remainder[0](parts[1])  # (B, K, H outputs)
        else:
            y = torch.stack(
                [t(parts[0][:, k]) + r(parts[1][:, k]) for k, (t, r) in enumerate(zip(self.trend, self.remainder))], 1
            )
        B = x.shape[0]
        return y.view(B, self.K, self.horizon, self.outputs).transpose(1, 2)  # (B, H, K, outputs)
