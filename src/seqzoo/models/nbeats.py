"""N-BEATS: a direct forecaster made of fully connected blocks that explain the context away block by block
(Oreshkin, Carpov, Chapados & Bengio 2020, "N-BEATS: Neural basis expansion analysis for interpretable time
series forecasting", ICLR).

Each target channel is read on its own (its L context values, flattened). Block l reads what the blocks
before it left unexplained, x_l, and returns a backcast (its explanation of x_l) and a partial forecast:

    h        = relu(FC(... relu(FC(x_l))))           ``layers`` layers of ``width`` units
    backcast = V_b theta_b,  theta_b = W_b h          (L,)
    forecast = V_f theta_f,  theta_f = W_f h          (H,)
    x_{l+1}  = x_l - backcast                         the residual the next block reads
    y        = sum over blocks of forecast

The basis V says what a block can express:

- ``generic``: learned (V and W collapse into one linear map each);
- ``interpretable``: a trend stack, V = [1, t, t^2, .., t^degree], then a seasonality stack, V = [cos(2 pi i t),
  sin(2 pi i t)] for harmonics i = 0 .. H/2 - 1, so that the model's forecast is a trend plus a season that
  ``decompose`` returns one stack at a time.

Paper defaults: generic, 30 stacks of one block, 4 layers of 512 units; interpretable, a trend stack of 3 blocks
of 256 units (degree 3) and a seasonality stack of 3 blocks of 2,048 units, weights shared within each stack.
Where we differ: the paper's figures are an ensemble of 180 models over lookbacks, losses and seeds (here one
model; ``ensemble=N`` is the many-to-one task's); the time axis of both bases is counted in forecast lengths, the
forecast on t = 0, 1/H, .., (H-1)/H and the backcast on t = -L/H .. -1/H, so a harmonic has the same period
(H/i steps) before and after the origin and the trend runs on through it (the paper's code gives the backcast its
own grid); the trend's backcast uses t / (L/H) in [-1, 0) to keep its powers of order one; a probabilistic
output expands each of its ``outputs`` parameters in the same basis.
"""

import math

import torch
from torch import nn

from seqzoo.models.interface import Width, check_context, forecaster_sizes

VARIANTS = ("generic", "interpretable")


def trend_basis(steps: torch.Tensor, degree: int) -> torch.Tensor:
    """(degree + 1, len(steps)): the powers 0 .. degree of the time points."""
    return torch.stack([steps**p for p in range(degree + 1)])


def seasonal_basis(steps: torch.Tensor, harmonics: int) -> torch.Tensor:
    """(2 harmonics, len(steps)): cos and sin of 2 pi i t for i = 0 .. harmonics - 1 (t in forecast lengths)."""
    angles = 2 * math.pi * torch.arange(harmonics, dtype=steps.dtype)[:, None] * steps[None]
    return torch.cat([torch.cos(angles), torch.sin(angles)])


class Block(nn.Module):
    """One block: an MLP over the residual, then theta for the backcast and the forecast, expanded in a basis
    (``None``: generic, the projections are the output)."""

    def __init__(self, context, horizon, outputs, width, layers, backcast_basis=None, forecast_basis=None):
        super().__init__()
        sizes = [context] + [width] * layers
        self.mlp = nn.Sequential(*(m for i in range(layers) for m in (nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU())))
        self.horizon, self.outputs = horizon, outputs
        if backcast_basis is None:  # generic: a learned basis, i.e. one linear map each
            self.theta_b, self.theta_f = nn.Linear(width, context), nn.Linear(width, horizon * outputs)
            self.register_buffer("V_b", None)
            self.register_buffer("V_f", None)
        else:
            self.theta_b = nn.Linear(width, len(backcast_basis), bias=False)
            self.theta_f = nn.Linear(width, len(forecast_basis) * outputs, bias=False)
            self.register_buffer("V_b", backcast_basis)  # (P, L)
            self.register_buffer("V_f", forecast_basis)  # (P, H)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, L) -> backcast (N, L), forecast (N, H, outputs)."""
        h = self.mlp(x)  # (N, width)
        if self.V_b is None:
            return self.theta_b(h), self.theta_f(h).view(-1, self.horizon, self.outputs)
        theta_f = self.theta_f(h).view(len(x), self.outputs, -1)  # (N, outputs, P)
        return self.theta_b(h) @ self.V_b, (theta_f @ self.V_f).transpose(1, 2)  # (N, L), (N, H, outputs)


class NBEATS(nn.Module):
    """``forward(x (B, L, C)) -> (B, H, K, outputs)``: each of the first ``num_targets`` channels forecast from its
    own past by the same network."""

    forecaster = True  # maps a whole context to a whole horizon (models.interface): task=forecast only
    causal = True  # the forecast reads the context only
    width = Width("width")

    def __init__(
        self,
        context: int,
        horizon: int,
        input_size: int = 1,
        num_targets: int | None = None,
        outputs: int = 1,
        variant: str = "generic",
        stacks: int = 30,
        blocks_per_stack: int = 1,
        layers: int = 4,
        width: int = 512,
        share_weights: bool = False,
        degree: int = 3,
        harmonics: int | None = None,
        seasonality_width_multiplier: int = 8,
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant={variant!r} is not one of {', '.join(VARIANTS)}")
        self.K = forecaster_sizes(
            context,
            horizon,
            input_size,
            num_targets,
            outputs=outputs,
            stacks=stacks,
            layers=layers,
            width=width,
            blocks_per_stack=blocks_per_stack,
        )
        self.context, self.horizon, self.outputs, self.variant = context, horizon, outputs, variant
        after = torch.arange(horizon, dtype=torch.float32) / horizon  # forecast time, in horizons
        before = torch.arange(-context, 0, dtype=torch.float32) / horizon  # backcast time, same units

        def stack(n_width, bases=(None, None)):
            """A stack of ``blocks_per_stack`` blocks, or one block repeated when weights are shared."""
            make = lambda: Block(context, horizon, outputs, n_width, layers, *bases)  # noqa: E731
            return nn.ModuleList([make()] if share_weights else [make() for _ in range(blocks_per_stack)])

        if variant == "generic":
            self.stacks = nn.ModuleList(stack(width) for _ in range(stacks))
            self.names = [f"stack{i}" for i in range(stacks)]
        else:
            H2 = harmonics or max(1, horizon // 2)
            trend = (trend_basis(before * horizon / context, degree), trend_basis(after, degree))
            season = (seasonal_basis(before, H2), seasonal_basis(after, H2))
            self.stacks = nn.ModuleList([stack(width, trend), stack(width * seasonality_width_multiplier, season)])
            self.names = ["trend", "seasonality"]
        self.repeats = blocks_per_stack if share_weights else 1

    def zero_forecast(self) -> None:
        """Every block's forecast map to zero (backcasts still learn): a correction to a baseline starts as it."""
        for block in (b for blocks in self.stacks for b in blocks):
            nn.init.zeros_(block.theta_f.weight)
            if block.theta_f.bias is not None:
                nn.init.zeros_(block.theta_f.bias)

    def decompose(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Each stack's forecast {name: (B, H, K, outputs)}; their sum is ``forward``'s (the interpretable
        variant's trend and seasonality)."""
        x = check_context(self, x, mask)[..., : self.K]  # (B, L, K)
        B = x.shape[0]
        residual = x.transpose(1, 2).reshape(B * self.K, self.context)  # (B K, L): every channel on its own
        out = {}
        for name, blocks in zip(self.names, self.stacks):
            total = 0
            for block in (b for b in blocks for _ in range(self.repeats)):
                backcast, forecast = block(residual)
                residual, total = residual - backcast, total + forecast  # (B K, L), (B K, H, outputs)
            out[name] = total.view(B, self.K, self.horizon, self.outputs).transpose(1, 2)  # (B, H, K, outputs)
        return out

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return sum(self.decompose(x, mask).values())
