"""Forecast scores on the original scale, and the two forecasts every model must beat.

Per value: MAE, RMSE and sMAPE (in %, 200 |y - f| / (|y| + |f|), 0 where both are 0). Per window and target:
MASE, the window's MAE over the series' in-sample seasonal-naive MAE (Hyndman & Koehler 2006), so that
1.0 means "as good as repeating last season inside the training period". For probabilistic forecasts: CRPS,
approximated by twice the mean pinball loss over the levels 0.05, 0.10, ..., 0.95 (the usual quantile
approximation, so every output kind is scored alike), and the coverage of the central 80 % interval
(the 0.1 and 0.9 quantiles), which should be close to 0.80.

``naive`` repeats the last context value; ``seasonal_naive`` repeats the last season of the context (m
steps). Both are computed from exactly the windows the model is scored on.
"""

import torch
import torchmetrics

from seqzoo.tasks.forecast_outputs import pinball

CRPS_LEVELS = [round(0.05 * i, 2) for i in range(1, 20)]
INTERVAL = (0.1, 0.9)


def naive(context: torch.Tensor, horizon: int) -> torch.Tensor:
    """context (B, L, K) -> (B, H, K): the last value, repeated."""
    return context[:, -1:].expand(-1, horizon, -1)


def seasonal_naive(context: torch.Tensor, horizon: int, m: int) -> torch.Tensor:
    """context (B, L, K), L >= m -> (B, H, K): step h repeats the value m steps (or a multiple) before it."""
    last_season = context[:, context.shape[1] - m :]  # (B, m, K)
    return last_season[:, torch.arange(horizon, device=context.device) % m]


class ForecastScores(torchmetrics.Metric):
    full_state_update = False

    def __init__(self, probabilistic: bool = False):
        super().__init__()
        self.probabilistic = probabilistic
        for name in ("abs", "sq", "smape", "values", "mase", "windows", "crps", "covered"):
            self.add_state(name, torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(
        self, point: torch.Tensor, y: torch.Tensor, mase_scale: torch.Tensor, quantiles: torch.Tensor | None = None
    ) -> None:
        """point, y (B, H, K); mase_scale (B, K); quantiles (B, H, K, len(CRPS_LEVELS)) for probabilistic scores."""
        point, y = point.double(), y.double()
        err = (point - y).abs()
        self.abs += err.sum()
        self.sq += err.pow(2).sum()
        denom = point.abs() + y.abs()
        self.smape += torch.where(denom > 0, 200 * err / denom.clamp_min(1e-12), torch.zeros_like(err)).sum()
        self.values += err.numel()
        self.mase += (err.mean(1) / mase_scale.double()).sum()
        self.windows += mase_scale.numel()
        if quantiles is not None:
            q = quantiles.double()
            levels = torch.tensor(CRPS_LEVELS, dtype=torch.float64, device=q.device)
            self.crps += 2 * pinball(q, y, levels).mean(-1).sum()
            lo, hi = q[..., CRPS_LEVELS.index(INTERVAL[0])], q[..., CRPS_LEVELS.index(INTERVAL[1])]
            self.covered += ((y >= lo) & (y <= hi)).sum()

    def compute(self) -> dict:
        n = self.values.clamp_min(1)
        out = {
            "mae": self.abs / n,
            "rmse": (self.sq / n).sqrt(),
            "smape": self.smape / n,
            "mase": self.mase / self.windows.clamp_min(1),
        }
        if self.probabilistic:
            out.update(crps=self.crps / n, coverage80=self.covered / n)
        return {k: v.float() for k, v in out.items()}
