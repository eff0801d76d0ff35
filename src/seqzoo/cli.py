"""Console entry points ``seqzoo-train``, ``seqzoo-eval``, ``seqzoo-predict``, ``seqzoo-export`` (and the root
``train.py``).

Each is a thin ``@hydra.main`` over a pure function of ``seqzoo.train``. A user's mistake ends in one
message on stderr and exit status 2, not a traceback from deep inside.
"""

import importlib.metadata
import re
import sys

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from seqzoo import configs, pretrained, run_dirs  # noqa: F401  (run_dirs registers the ${run_id:} resolver)
from seqzoo import train as run
from seqzoo.errors import SeqzooError, unwrap


def compose_config(overrides=(), name: str = "train", output_dir=None, hydra_config: bool = False) -> DictConfig:
    """The config a command would run with, composed outside ``@hydra.main`` (scripts, tests, notebooks).
    ``paths.output_dir``, which Hydra fills in at run time, is set to ``output_dir`` when given."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(
        config_dir=configs.CONFIG_DIR, version_base="1.3"
    ):  # read at call time: tests point it elsewhere
        cfg = compose(config_name=name, overrides=list(overrides), return_hydra_config=hydra_config)
    if output_dir is not None:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg


def missing_extra(message: str) -> str | None:
    """The seqzoo extra (pyproject's optional dependencies) whose package an import error names, if any."""
    for requirement in importlib.metadata.requires("seqzoo") or []:
        found = re.match(r"([A-Za-z0-9_.-]+).*extra\s*==\s*['\"](\w+)['\"]", requirement)
        if found:
            dist, extra = found.groups()
            if any(re.search(rf"\b{re.escape(n)}\b", message, re.I) for n in {dist, dist.split("-")[0]}):
                return extra
    return None


def guarded(fn, cfg: DictConfig):
    """Run a command; a user's mistake prints one clear line and exits with status 2. In a multirun sweep
    the failed job raises instead, so Hydra goes on with the other jobs and the sweep ends with status 1."""
    status = 2
    try:
        return fn(cfg)
    except SeqzooError as e:
        message, status = f"seqzoo: error: {e}", getattr(e, "exit_code", 2)
    except InstantiationException as e:
        if isinstance(unwrap(e), SeqzooError):
            message = f"seqzoo: error: {unwrap(e)}"
        elif isinstance(e.__cause__, ImportError) and missing_extra(str(e.__cause__)):
            message = (
                f"seqzoo: error: the config needs a package that is not installed ({e.__cause__}); "
                f'pip install -e ".[{missing_extra(str(e.__cause__))}]"'
            )
        else:
            message = (
                f"seqzoo: error: cannot build an object from the config: {e}\n"
                "Check the keys you overrode against seqzoo's configs (seqzoo-train --cfg job prints the composed "
                "config)."
            )
    print(message, file=sys.stderr)
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        raise SeqzooError(message) from None
    sys.exit(status)


@hydra.main(version_base="1.3", config_path=configs.PACKAGE, config_name="train")
def train_main(cfg: DictConfig) -> float | None:
    """Train; returns the monitored validation metric (``callbacks.model_checkpoint.monitor``) so that a
    sweeper can optimise it. ``train_main(cfg)`` with a composed config runs without parsing the command line."""
    return run.monitored(cfg, guarded(run.train, cfg))


@hydra.main(version_base="1.3", config_path=configs.PACKAGE, config_name="eval")
def eval_main(cfg: DictConfig) -> None:
    guarded(lambda c: run.evaluate(pretrained.resolve(c)), cfg)


@hydra.main(version_base="1.3", config_path=configs.PACKAGE, config_name="predict")
def predict_main(cfg: DictConfig) -> None:
    guarded(lambda c: run.predict(pretrained.resolve(c)), cfg)


@hydra.main(version_base="1.3", config_path=configs.PACKAGE, config_name="export")
def export_main(cfg: DictConfig) -> None:
    from seqzoo import export

    guarded(lambda c: export.run(pretrained.resolve(c)), cfg)
