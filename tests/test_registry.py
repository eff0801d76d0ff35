"""The one Python registry reads the same configs as the commands: every family by name, with its yaml's
defaults, and a wrong name or setting named."""

import pytest
import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from seqzoo.configs import config_file
from seqzoo.errors import SeqzooError
from seqzoo.models import create_model, list_models
from seqzoo.models.interface import run_encoder
from tests.conftest import config_names


def test_every_family_is_listed_and_built_with_its_yaml_defaults():
    assert list_models() == config_names("model")
    for name in list_models("encoder"):
        model = create_model(name, input_size=3)
        node = OmegaConf.load(config_file("model", name))
        assert isinstance(model, get_class(node._target_))
        assert run_encoder(model.eval(), torch.randn(2, 5, 3)).shape == (2, 5, model.output_size)
    for name in list_models("forecaster"):  # a forecaster takes the sizes a task would give it
        model = create_model(name, input_size=3, context=8, horizon=2, num_targets=1)
        assert isinstance(model, get_class(OmegaConf.load(config_file("model", name))._target_))
        assert model.eval()(torch.randn(2, 8, 3)).shape == (2, 2, 1, 1)


def test_overrides_and_mistakes():
    assert create_model("lstm", input_size=4, hidden_size=7).hidden_size == 7
    with pytest.raises(SeqzooError, match="no model family 'lstn'; the families are: .*lstm"):
        create_model("lstn", input_size=4)
    with pytest.raises(SeqzooError, match="model lstm has no hidden; its settings are: hidden_size"):
        create_model("lstm", input_size=4, hidden=7)
