"""The configs ship inside the package (this folder), so a wheel works outside a checkout; Hydra finds them
as ``pkg://seqzoo.configs``. They are the one registry of families, data sets and tasks (Hydra's ``_target_``
names the class), so every list of names is read from them.

A user adds a family or a data set without forking by a folder of their own with the same layout
(``my_configs/data/my_set.yaml``) named on the command line: ``seqzoo-train --config-dir my_configs data=my_set``
(or ``hydra.searchpath=[file://my_configs]``). Under a running command, ``config_options`` and ``config_file``
see those folders too.
"""

from pathlib import Path

CONFIG_DIR = str(Path(__file__).resolve().parent)
PACKAGE = "pkg://seqzoo.configs"


def search_dirs() -> list[Path]:
    """The package's configs (``CONFIG_DIR``, read at call time: tests point it elsewhere), then the folders
    the running Hydra command added (``--config-dir``, ``hydra.searchpath``), earlier ones winning."""
    from hydra.core.hydra_config import HydraConfig

    added = []
    if HydraConfig.initialized():
        added = [
            Path(s.path)
            for s in HydraConfig.get().runtime.config_sources
            if s.schema == "file" and Path(s.path).resolve() != Path(CONFIG_DIR).resolve()
        ]
    return [*added, Path(CONFIG_DIR)]


def config_options(group: str) -> list[str]:
    """Every option of a config group (``model`` lists the families, ``decoder`` those that decode)."""
    return sorted({p.stem for d in search_dirs() for p in (d / group).glob("*.yaml")})


def config_file(group: str, name: str) -> Path | None:
    """The file that defines option ``name`` of ``group``, from the first search folder that has it."""
    return next((d / group / f"{name}.yaml" for d in search_dirs() if (d / group / f"{name}.yaml").is_file()), None)
