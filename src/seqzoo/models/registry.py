"""Every family by name: the one registry is ``configs/model/`` (a family is listed because its yaml exists),
read here for use outside a training run. Importing this needs torch alone; ``create_model`` reads the yaml
with OmegaConf and builds with Hydra (both installed with seqzoo)."""

from seqzoo.configs import config_file, config_options
from seqzoo.models.interface import is_forecaster


def list_models(kind: str | None = None) -> list[str]:
    """The model families, by config name (``src/seqzoo/configs/model/``): the names ``create_model`` takes;
    ``kind="encoder"`` those that encode steps (every mapping), ``kind="forecaster"`` the direct forecasters
    (``task=forecast`` only)."""
    names = config_options("model")
    if kind is None:
        return names
    if kind not in ("encoder", "forecaster"):
        raise ValueError(f"kind={kind!r} is not one of encoder, forecaster")
    return [n for n in names if is_forecaster(family_class(n)) == (kind == "forecaster")]


def family_class(name: str) -> type:
    """The class a family's yaml names, imported without Hydra."""
    import importlib

    from omegaconf import OmegaConf

    module, _, cls = OmegaConf.load(config_file("model", name))._target_.rpartition(".")
    return getattr(importlib.import_module(module), cls)


def create_model(name: str, input_size: int, **overrides):
    """A backbone by its config name with its yaml's defaults, for use outside a training run:
    ``create_model("mamba", input_size=12, d_model=64)``; a forecaster also needs its sizes:
    ``create_model("dlinear", input_size=1, context=96, horizon=24)``. Needs hydra-core (installed with seqzoo);
    the model classes themselves (``from seqzoo.models import Mamba``) need torch alone."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from seqzoo.errors import SeqzooError

    path = config_file("model", name)
    if path is None:
        raise SeqzooError(f"no model family {name!r}; the families are: {', '.join(list_models())}")
    node = OmegaConf.to_container(OmegaConf.load(path))
    node.pop("target_params", None)  # a sizing request (models/sizing.py), not a constructor argument
    import inspect

    takes = inspect.signature(family_class(name)).parameters  # sizes a yaml leaves to the task (a context, ...)
    unknown = sorted(set(overrides) - set(node) - set(takes))
    if unknown:
        raise SeqzooError(
            f"model {name} has no {', '.join(unknown)}; its settings are: "
            f"{', '.join(k for k in node if k != '_target_')}"
        )
    return instantiate({**node, **overrides}, input_size=input_size)
