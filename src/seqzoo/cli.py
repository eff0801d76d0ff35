"""Console entry points ``seqzoo-train``, ``seqzoo-eval``, ``seqzoo-predict`` (and the root ``train.py``).

Each is a thin ``@hydra.main`` over a pure function of ``seqzoo.train``. A user's mistake ends in one
message on stderr and exit status 2, not a traceback from deep inside.
"""

import sys
from pathlib import Path

import hydra
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from seqzoo import train as run
from seqzoo.errors import SeqzooError

# configs/ lives at the repository root (DESIGN.md); seqzoo is installed from a checkout with pip install -e
CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "configs")


def guarded(fn, cfg: DictConfig):
    try:
        return fn(cfg)
    except SeqzooError as e:
        print(f"seqzoo: error: {e}", file=sys.stderr)
    except InstantiationException as e:
        if isinstance(e.__cause__, SeqzooError):
            print(f"seqzoo: error: {e.__cause__}", file=sys.stderr)
            sys.exit(2)
        print(f"seqzoo: error: cannot build an object from the config: {e}\n"
              "Check the keys you overrode against configs/ (python train.py --cfg job prints the composed config).",
              file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def train_main(cfg: DictConfig) -> None:
    guarded(run.train, cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def eval_main(cfg: DictConfig) -> None:
    guarded(run.evaluate, cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="predict")
def predict_main(cfg: DictConfig) -> None:
    guarded(run.predict, cfg)
