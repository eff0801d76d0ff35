"""After testing a forecaster, draw a few fixed test windows: the end of the context, the truth over the
horizon, the forecast and its 80 % interval (``<dirpath>/forecast.png``). Windows are spread evenly over the
test split, so reruns and other models draw the same ones. Other tasks are left alone."""

from pathlib import Path

import lightning as L
import torch

from seqzoo.atomic import atomic_path
from seqzoo.data.batch import INPUTS, TARGETS, collate
from seqzoo.tasks.forecast_metrics import CRPS_LEVELS


class ForecastPlot(L.Callback):
    def __init__(self, dirpath: str, num_windows: int = 4, context_shown: int = 96):
        self.dirpath, self.num_windows, self.context_shown = Path(dirpath), num_windows, context_shown

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or not hasattr(pl_module, "forecast") or trainer.datamodule is None:
            return
        test = trainer.datamodule.splits["test"]
        picks = torch.linspace(0, len(test) - 1, min(self.num_windows, len(test))).round().long().tolist()
        batch = {k: v.to(pl_module.device) for k, v in collate([test[i] for i in picks]).items()}
        was_training = pl_module.training
        pl_module.eval()
        point, q = pl_module.forecast(batch)
        pl_module.train(was_training)
        context = pl_module.unscaled(batch[INPUTS][:, :, : pl_module.K], batch)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        draw(
            context.cpu(),
            batch[TARGETS].cpu(),
            point.cpu(),
            None if q is None else q.cpu(),
            [title(trainer.datamodule.series[int(s)], int(o)) for s, o in zip(batch["series"], batch["origin"])],
            self.context_shown,
            self.dirpath / "forecast.png",
        )


def title(series, origin: int) -> str:
    return f"{series.name}: forecast from {series.times[origin]}"


def draw(context, truth, point, q, titles, shown: int, path: Path) -> None:
    """context (B, L, K), truth and point (B, H, K), q (B, H, K, levels) or None: the first target of each window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, L, H = len(context), context.shape[1], truth.shape[1]
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.2 * n), squeeze=False)
    past, ahead = torch.arange(max(0, L - shown), L), torch.arange(L, L + H)
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(past, context[i, L - len(past) :, 0], color="black", linewidth=1, label="context")
        ax.plot(ahead, truth[i, :, 0], color="black", linestyle="--", linewidth=1, label="truth")
        ax.plot(ahead, point[i, :, 0], color="tab:blue", linewidth=1.5, label="forecast")
        if q is not None:
            lo, hi = q[i, :, 0, CRPS_LEVELS.index(0.1)], q[i, :, 0, CRPS_LEVELS.index(0.9)]
            ax.fill_between(ahead, lo, hi, color="tab:blue", alpha=0.25, label="80 % interval")
        ax.set_title(titles[i], fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[-1, 0].set_xlabel("step of the window")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
