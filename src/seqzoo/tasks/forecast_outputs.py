"""What a forecaster outputs per step and target, and the loss that trains it, in the scaled space:

- ``point``: one value; loss ``mse`` or ``mae`` (the median's loss);
- ``quantile``: one value per level in ``quantiles``; pinball loss (Koenker & Bassett 1978), averaged;
- ``gaussian``: mean and scale (softplus); negative log-likelihood;
- ``student_t``: location, scale and degrees of freedom (2 + softplus: a finite variance); NLL. Heavy tails
  for series with jumps.

Each gives a point forecast and quantiles at any levels: parametric ones by the inverse CDF (Gaussian) or by
``num_samples`` draws (Student-t, which torch gives no inverse CDF for); a quantile output reads its own
levels (sorted, so that they never cross) and interpolates linearly between them.
"""

import torch
import torch.nn.functional as F
from torch.distributions import Normal, StudentT

from seqzoo.errors import SeqzooError

OUTPUTS = ("point", "quantile", "gaussian", "student_t")


class ForecastOutput:
    def __init__(
        self,
        kind: str = "point",
        quantiles: list[float] = (0.1, 0.5, 0.9),
        point_loss: str = "mse",
        num_samples: int = 200,
    ):
        if kind not in OUTPUTS:
            raise SeqzooError(f"task.output={kind} is not one of {', '.join(OUTPUTS)}")
        if point_loss not in ("mse", "mae"):
            raise SeqzooError(f"task.point_loss={point_loss} is not one of mse, mae")
        if kind == "quantile" and (not quantiles or not all(0 < q < 1 for q in quantiles)):
            raise SeqzooError(
                f"task.quantiles={list(quantiles)}: give levels strictly between 0 and 1, e.g. [0.1,0.5,0.9]"
            )
        self.kind, self.point_loss, self.num_samples = kind, point_loss, num_samples
        self.levels = sorted(float(q) for q in quantiles)
        self.size = {"point": 1, "quantile": len(self.levels), "gaussian": 2, "student_t": 3}[kind]
        self.probabilistic = kind != "point"

    def distribution(self, params: torch.Tensor):
        """params (..., size) -> a torch distribution (parametric kinds)."""
        scale = F.softplus(params[..., 1]) + 1e-4
        if self.kind == "gaussian":
            return Normal(params[..., 0], scale)
        return StudentT(2.0 + F.softplus(params[..., 2]), params[..., 0], scale)

    def loss(self, params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """params (B, H, K, size), y (B, H, K), both scaled -> the mean loss."""
        if self.kind == "point":
            err = params[..., 0] - y
            return err.pow(2).mean() if self.point_loss == "mse" else err.abs().mean()
        if self.kind == "quantile":
            return pinball(params, y, torch.tensor(self.levels, device=y.device, dtype=y.dtype)).mean()
        return -self.distribution(params).log_prob(y).mean()

    def point(self, params: torch.Tensor) -> torch.Tensor:
        """(..., size) -> (...): the mean, or the median of a quantile output."""
        if self.kind == "point":
            return params[..., 0]
        if self.kind == "quantile":
            return self.quantiles(params, [0.5])[..., 0]
        return params[..., 0]  # the location: the mean of both distributions (finite for df > 1)

    def sample(self, params: torch.Tensor) -> torch.Tensor:
        """(..., size) -> one draw (...), for autoregressive sample paths; a point output returns its point."""
        if self.kind == "point":
            return params[..., 0]
        if self.kind == "quantile":  # a level drawn uniformly, interpolated between the output's levels
            u = torch.rand(params.shape[:-1], device=params.device, dtype=params.dtype)
            return interpolate(params.sort(-1).values, self.levels, u.unsqueeze(-1))[..., 0]
        return self.distribution(params).sample()

    def quantiles(self, params: torch.Tensor, levels: list[float]) -> torch.Tensor:
        """(..., size) -> (..., len(levels))."""
        if self.kind == "point":
            return params[..., :1].expand(*params.shape[:-1], len(levels))
        if self.kind == "quantile":
            q = torch.tensor(levels, device=params.device, dtype=params.dtype)
            return interpolate(params.sort(-1).values, self.levels, q.expand(*params.shape[:-1], len(levels)))
        if self.kind == "gaussian":
            q = torch.tensor(levels, device=params.device, dtype=params.dtype)
            return self.distribution(params.unsqueeze(-2)).icdf(q.view(*([1] * (params.dim() - 1)), -1))
        draws = self.distribution(params).sample((self.num_samples,))  # (S, ...)
        q = torch.tensor(levels, device=params.device, dtype=params.dtype)
        return torch.quantile(draws, q, dim=0).movedim(0, -1)


def pinball(q_pred: torch.Tensor, y: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """q_pred (..., Q), y (...), levels (Q,) -> (..., Q): max(l (y - q), (l - 1)(y - q))."""
    diff = y.unsqueeze(-1) - q_pred
    return torch.maximum(levels * diff, (levels - 1) * diff)


def interpolate(values: torch.Tensor, at: list[float], u: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear quantile function through (at[i], values[..., i]), flat beyond the ends: u (..., Q') levels."""
    grid = torch.tensor(at, device=values.device, dtype=values.dtype)
    if len(at) == 1:
        return values.expand(*u.shape)
    i = torch.searchsorted(grid, u.contiguous()).clamp(1, len(at) - 1)  # (..., Q')
    lo, hi = grid[i - 1], grid[i]
    v_lo, v_hi = values.gather(-1, i - 1), values.gather(-1, i)
    w = ((u - lo) / (hi - lo)).clamp(0, 1)
    return v_lo + w * (v_hi - v_lo)
