"""Where the configs live and which options each group offers: configs/ is the one registry of families,
data sets and tasks (Hydra's ``_target_`` names the class), so every list of names is read from it."""

from pathlib import Path

# configs/ lives at the repository root (DESIGN.md); seqzoo is installed from a checkout with pip install -e
CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "configs")


def config_options(group: str) -> list[str]:
    """Every option of a config group (``model`` lists the families, ``decoder`` those that decode)."""
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))  # CONFIG_DIR read at call time
