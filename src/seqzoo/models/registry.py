"""Every family by name: the one registry is ``configs/model/`` (a family is listed because its yaml exists),
read here for use outside a training run. Importing this needs torch alone; ``create_model`` reads the yaml
with OmegaConf and builds with Hydra (both installed with seqzoo)."""

from seqzoo.configs import config_file, config_options


def list_models() -> list[str]:
    """The backbone families, by config name (``src/seqzoo/configs/model/``): the names ``create_model`` takes."""
    return config_options("model")


def create_model(name: str, input_size: int, **overrides):
    """A backbone by its config name with its yaml's defaults, for use outside a training run:
    ``create_model("mamba", input_size=12, d_model=64)``. Needs hydra-core (installed with seqzoo); the model
    classes themselves (``from seqzoo.models import Mamba``) need torch alone."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from seqzoo.errors import SeqzooError

    path = config_file("model", name)
    if path is None:
        raise SeqzooError(f"no model family {name!r}; the families are: {', '.join(list_models())}")
    node = OmegaConf.to_container(OmegaConf.load(path))
    node.pop("target_params", None)  # a sizing request (models/sizing.py), not a constructor argument
    unknown = sorted(set(overrides) - set(node))
    if unknown:
        raise SeqzooError(
            f"model {name} has no {', '.join(unknown)}; its settings are: "
            f"{', '.join(k for k in node if k != '_target_')}"
        )
    return instantiate({**node, **overrides}, input_size=input_size)
