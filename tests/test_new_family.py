"""Proof of "one family, one file": a family that exists only in this test (a module below and one yaml
written to a copy of configs/) is found, held to the encoder contract, trained in the mappings, sized by
the budget fitter and refused clearly in the decoder role, with no edit anywhere else."""

import shutil

import pytest
import torch
from hydra.utils import instantiate
from torch import nn

from seqzoo import configs
from seqzoo.errors import SeqzooError
from seqzoo.models.interface import Width
from seqzoo.models.sizing import count_parameters
from seqzoo.train import build_task, sized_model
from tests.conftest import config_names, make_cfg, small_part
from tests.models.test_contract import check_encoder_contract
from tests.tasks.test_matrix import overfit_loss


class WrappedGRU(nn.Module):
    """torch.nn.GRU brought into the zoo: declare the width knob and causality, zero the padded steps."""

    width = Width("hidden_size")
    causal = True

    def __init__(self, input_size: int, hidden_size: int = 64):
        super().__init__()
        self.rnn = nn.GRU(input_size, hidden_size, batch_first=True)

    @property
    def output_size(self) -> int:
        return self.rnn.hidden_size

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, C), mask (B, T) -> (B, T, H); right padding comes after every real step, so it is never read."""
        out, _ = self.rnn(x)
        return out if mask is None else out * mask.unsqueeze(-1)


@pytest.fixture
def new_family(tmp_path, monkeypatch):
    root = tmp_path / "configs"
    shutil.copytree(configs.CONFIG_DIR, root)
    (root / "model" / "wrapped_gru.yaml").write_text(f"_target_: {__name__}.WrappedGRU\nhidden_size: 64\n")
    monkeypatch.setattr(configs, "CONFIG_DIR", str(root))
    return "wrapped_gru"


def test_the_family_is_listed_and_keeps_the_contract(new_family):
    assert new_family in configs.config_options("model")
    check_encoder_contract(small_part("model", new_family)(input_size=5))


@pytest.mark.parametrize("mapping,extra", [("many_to_one", []), ("aligned", []), ("seq2seq", ["decoder=gru"])])
def test_the_family_learns_in_each_mapping(new_family, tmp_path, mapping, extra):
    assert overfit_loss(tmp_path, mapping, [f"model={new_family}", *extra]) < 0.02


def test_the_budget_fitter_sizes_the_family(new_family, tmp_path):
    cfg = make_cfg(
        tmp_path,
        [
            f"model={new_family}",
            "data=adding",
            "data.length=20",
            "data.n_train=8",
            "data.n_val=8",
            "data.n_test=8",
            "+model.target_params=20000",
        ],
    )
    dm = instantiate(cfg.data)
    dm.setup()
    sized = sized_model(cfg, dm.info)  # a new config holding the width chosen; the composed one is left as it was
    assert abs(count_parameters(build_task(sized, dm.info)) - 20_000) <= 0.05 * 20_000
    assert sized.model.hidden_size != 64 and "target_params" not in sized.model and cfg.model.hidden_size == 64


def test_the_decoder_role_is_refused_with_the_choices(new_family, tmp_path):
    cfg = make_cfg(tmp_path, [f"model={new_family}", "task=seq2seq", "data=reverse", "debug=fast_dev_run"])
    with pytest.raises(SeqzooError, match="needs a decoder.*decoder=") as refused:
        build_task(cfg, {})
    choices = str(refused.value).rsplit("decoder=", 1)[1].split("|")
    assert choices == config_names("decoder")  # every decoder role there is, in the configs' order
