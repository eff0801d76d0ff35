"""Forecasting (many-to-many unaligned, real values): an encoder reads a context window; the next H steps
come either

- ``direct``: from one multi-horizon head on the encoder's last step (and the horizon's known features), or
- ``direct`` with a forecaster family (``model=dlinear``, ``model=nbeats``): the family maps the context to the
  horizon itself, without a head;
- ``autoregressive``: from any family in the decoder role (``decoder=<family>``), fed at each step the
  previous value and that step's known features, starting from the encoder's last step (its condition) and
  attending to all of its steps (its memory); teacher-forced in training, ``step()`` by step in generation.
  Probabilistic outputs generate ``num_samples`` sample paths (each step draws from its predicted
  distribution and feeds the draw back), so that uncertainty compounds over the horizon as it should.

The model works in the scaled space the data module chose (``loc``, ``scale``); forecasts are mapped back before any
metric. ``baseline=seasonal_naive`` (or ``naive``; ``auto``: seasonal naive when the season is longer than a step)
makes the network forecast a correction to that baseline (added to the location of every output kind); its head
starts at zero, so it starts out as the baseline and learns what it misses (a forecaster's last maps start at zero
likewise). Every validation and test epoch also scores ``naive`` and ``seasonal_naive`` on the same windows
(``test/naive_mase``, ``test/seasonal_naive_mase``, ...): a model that does not beat them shows it.
"""

import lightning as L
import torch
from torch import nn

from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.errors import SeqzooError
from seqzoo.models.interface import is_forecaster, run_encoder
from seqzoo.sizes import builder, with_sizes
from seqzoo.tasks.forecast_metrics import CRPS_LEVELS, ForecastScores, naive, seasonal_naive
from seqzoo.tasks.forecast_outputs import ForecastOutput
from seqzoo.tasks.inputs import ReadsSequences
from seqzoo.tasks.optim import configure_optimizers
from seqzoo.tasks.train_loss import TrainLossLogging

METHODS = ("direct", "autoregressive")
BASELINES = {"naive": naive, "seasonal_naive": seasonal_naive}


class Forecast(ReadsSequences, TrainLossLogging, L.LightningModule):
    mapping = "forecast"

    def __init__(
        self,
        backbone,
        decoder=None,
        input_size: int = 1,
        num_targets: int = 1,
        context: int | None = None,
        future_size: int = 0,
        horizon: int = 1,
        season: int = 1,
        method: str = "direct",
        output: str = "point",
        quantiles: list[float] = (0.1, 0.5, 0.9),
        point_loss: str = "mse",
        num_samples: int = 100,
        baseline: str | None = None,
        dropout: float = 0.0,
        optimizer=None,
        scheduler=None,
    ):
        super().__init__()
        if method not in METHODS:
            raise SeqzooError(f"task.method={method} is not one of {', '.join(METHODS)}")
        if baseline not in (None, "auto", *BASELINES):
            raise SeqzooError(f"task.baseline={baseline} is not one of null, auto, {', '.join(BASELINES)}")
        if baseline == "auto":  # the data's own structure: a known season is repeated, else no baseline
            baseline = "seasonal_naive" if season > 1 else None
        self.baseline = baseline
        self.out = ForecastOutput(output, quantiles, point_loss, num_samples)
        self.K, self.F, self.H, self.season, self.method = num_targets, future_size, horizon, season, method
        self.num_samples = num_samples
        self.dropout = nn.Dropout(dropout)
        if is_forecaster(builder(backbone)):  # the family is the whole forecaster: no head
            if method != "direct":
                raise SeqzooError(
                    f"{builder(backbone).__name__} forecasts the whole horizon at once: use task.method=direct"
                )
            sizes = dict(context=context, horizon=horizon, num_targets=num_targets, outputs=self.out.size)
            self.backbone, self.head = with_sizes(backbone, dict(input_size=input_size, **sizes)), None
            if baseline is not None:
                self.backbone.zero_forecast()
        else:
            self.backbone = with_sizes(backbone, dict(input_size=input_size))
            self.build_head(decoder, num_targets, future_size, horizon, baseline)
        self.optimizer, self.scheduler = optimizer, scheduler
        self.scores = nn.ModuleDict(
            {
                f"{stage}_{who}": ForecastScores(self.out.probabilistic and who == "model")
                for stage in ("val", "test")
                for who in ("model", *BASELINES)
            }
        )

    def build_head(self, decoder, num_targets, future_size, horizon, baseline) -> None:
        """An encoder's head: one multi-horizon linear map (direct), or a decoder and its per-step map."""
        method, D = self.method, self.backbone.output_size
        if method == "direct":
            self.head = nn.Linear(D + horizon * future_size, horizon * num_targets * self.out.size)
        else:
            if decoder is None:
                raise SeqzooError("task.method=autoregressive needs a decoder: decoder=<family> (e.g. decoder=lstm)")
            self.decoder = with_sizes(
                decoder, dict(input_size=num_targets + future_size, memory_size=D, condition_size=D)
            )
            self.head = nn.Linear(self.decoder.output_size, num_targets * self.out.size)
        if baseline is not None:  # no correction at first: the forecaster starts exactly as its baseline
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    # -- the model ------------------------------------------------------------------------------------
    def encode(self, batch: dict) -> torch.Tensor:
        return run_encoder(self.backbone, batch[INPUTS], batch.get(INPUT_MASK))  # (B, L, D)

    def params(self, batch: dict, targets_scaled: torch.Tensor | None = None) -> torch.Tensor:
        """-> output parameters (B, H, K, size) in the scaled space; teacher-forced when targets are given."""
        if self.head is None:  # a forecaster family
            return self.plus_baseline(self.backbone(batch[INPUTS], batch.get(INPUT_MASK)), batch)
        memory = self.encode(batch)
        last = memory[:, -1]  # (B, D)
        if self.method == "direct":
            flat = torch.cat([self.dropout(last), batch["future"].flatten(1)], 1)  # (B, D + H F)
            return self.plus_baseline(self.head(flat).view(-1, self.H, self.K, self.out.size), batch)
        prev = torch.cat(
            [batch[INPUTS][:, -1:, : self.K], targets_scaled[:, :-1]], 1
        )  # (B, H, K): y_{o-1} .. y_{o+H-2}
        h = self.decoder(torch.cat([prev, batch["future"]], -1), memory, batch.get(INPUT_MASK), last)  # (B, H, D')
        return self.plus_baseline(self.head(self.dropout(h)).view(-1, self.H, self.K, self.out.size), batch)

    def base(self, batch: dict) -> torch.Tensor | None:
        """The baseline forecast in the scaled space (B, H, K), from the scaled context; None without one."""
        if self.baseline is None:
            return None
        context = batch[INPUTS][:, :, : self.K]  # (B, L, K)
        return naive(context, self.H) if self.baseline == "naive" else seasonal_naive(context, self.H, self.season)

    def plus_baseline(self, p: torch.Tensor, batch: dict, steps: slice = slice(None)) -> torch.Tensor:
        """p (B, H', K, size): the baseline added to the location (every level of a quantile output)."""
        base = self.base(batch)
        if base is None:
            return p
        base = base[:, steps].unsqueeze(-1)  # (B, H', K, 1)
        if self.out.kind == "quantile":
            return p + base
        return torch.cat([p[..., :1] + base, p[..., 1:]], -1)

    def scaled(self, y: torch.Tensor, batch: dict) -> torch.Tensor:
        return (y - batch["loc"].unsqueeze(1)) / batch["scale"].unsqueeze(1)

    def unscaled(self, y: torch.Tensor, batch: dict) -> torch.Tensor:
        """(B, H, K, ...) scaled -> original scale."""
        extra = (1,) * (y.dim() - 3)
        shape = (y.shape[0], 1, self.K, *extra)
        return y * batch["scale"].view(shape) + batch["loc"].view(shape)

    @torch.no_grad()
    def forecast(self, batch: dict, levels: list[float] = CRPS_LEVELS, params: torch.Tensor | None = None):
        """-> the point forecast (B, H, K) and quantiles (B, H, K, len(levels)) (None for a point output), on the
        original scale: the direct head's (``params`` when already computed), or generated step by step from
        the decoder's state."""
        if self.method == "direct":
            p = self.params(batch) if params is None else params
            q = self.out.quantiles(p, levels) if self.out.probabilistic else None
            return self.unscaled(self.out.point(p), batch), None if q is None else self.unscaled(q, batch)
        paths = self.generate(batch, self.num_samples if self.out.probabilistic else 1)  # (S, B, H, K)
        if not self.out.probabilistic:
            return self.unscaled(paths[0], batch), None
        q = torch.quantile(paths, torch.tensor(levels, device=paths.device, dtype=paths.dtype), dim=0).movedim(0, -1)
        return self.unscaled(paths.median(0).values, batch), self.unscaled(q, batch)

    def generate(self, batch: dict, samples: int) -> torch.Tensor:
        """Autoregressive sample paths (S, B, H, K) in the scaled space: S copies of the batch step together."""
        memory, mask = self.encode(batch), batch.get(INPUT_MASK)
        B = memory.shape[0]
        state = self.decoder.init_state(memory, mask, memory[:, -1])
        if samples > 1:
            state = self.decoder.reorder_state(
                state, torch.arange(B, device=memory.device).repeat(samples)
            )  # (S B, ...)
        prev = batch[INPUTS][:, -1, : self.K].repeat(samples, 1)  # (S B, K)
        future = batch["future"].repeat(samples, 1, 1)  # (S B, H, F)
        repeated = {INPUTS: batch[INPUTS].repeat(samples, 1, 1)}  # for the baseline of every sample path
        out = []
        for t in range(self.H):
            h, state = self.decoder.step(torch.cat([prev, future[:, t]], -1), state)
            p = self.plus_baseline(self.head(h).view(-1, 1, self.K, self.out.size), repeated, slice(t, t + 1))[
                :, 0
            ]  # (S B, K, size)
            prev = self.out.sample(p) if samples > 1 else self.out.point(p)
            out.append(prev)
        return torch.stack(out, 1).view(samples, B, self.H, self.K)

    # -- Lightning ------------------------------------------------------------------------------------
    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        y = self.scaled(batch[TARGETS], batch)
        loss = self.out.loss(self.params(batch, y), y)
        self.log_train_loss(loss, len(y))
        return loss

    def evaluate(self, batch: dict, stage: str) -> None:
        y = self.scaled(batch[TARGETS], batch)
        p = self.params(batch, y)
        loss = self.out.loss(p, y)
        self.log(f"{stage}/loss", loss, prog_bar=stage == "val", batch_size=len(y), sync_dist=True)
        point, q = self.forecast(batch, params=p if self.method == "direct" else None)  # the direct head's are the same
        self.scores[f"{stage}_model"].update(point, batch[TARGETS], batch["mase_scale"], q)
        context = self.unscaled(batch[INPUTS][:, :, : self.K], batch)  # (B, L, K) on the original scale
        self.scores[f"{stage}_naive"].update(naive(context, self.H), batch[TARGETS], batch["mase_scale"])
        self.scores[f"{stage}_seasonal_naive"].update(
            seasonal_naive(context, self.H, self.season), batch[TARGETS], batch["mase_scale"]
        )

    def log_scores(self, stage: str) -> None:
        for who in ("model", *BASELINES):
            metric = self.scores[f"{stage}_{who}"]
            prefix = f"{stage}/" if who == "model" else f"{stage}/{who}_"
            self.log_dict(
                {prefix + k: v for k, v in metric.compute().items()}, prog_bar=stage == "val" and who == "model"
            )
            metric.reset()

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def on_validation_epoch_end(self) -> None:
        self.log_scores("val")

    def on_test_epoch_end(self) -> None:
        self.log_scores("test")

    def predict_step(self, batch: dict, batch_idx: int) -> list[dict]:
        """One row per window: the point forecast and, when probabilistic, the 10 % and 90 % quantiles."""
        point, q = self.forecast(batch)

        def values(t: torch.Tensor) -> list:  # (H, K) -> [v, ...] for one target, [[v, ...], ...] per step for several
            return (
                [float(f"{v:.6g}") for v in t[:, 0].tolist()]
                if self.K == 1
                else [[float(f"{v:.6g}") for v in r] for r in t.tolist()]
            )

        rows = []
        for i in range(len(point)):
            row = {"forecast": values(point[i])}
            if q is not None:
                row.update({f"q{level:g}": values(q[i, ..., CRPS_LEVELS.index(level)]) for level in (0.1, 0.9)})
            rows.append(row)
        return rows

    def configure_optimizers(self):
        return configure_optimizers(self, self.optimizer, self.scheduler)
