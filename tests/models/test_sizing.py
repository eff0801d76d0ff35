import pytest

from seqzoo.models import LSTM
from seqzoo.models.sizing import count_parameters, fit_width
from seqzoo.train import build_task, sized_model
from tests.conftest import encoder_names, make_cfg


def test_fit_width_finds_the_closest():
    width, count = fit_width(lambda h: LSTM(1, h), 70_000)
    assert count == count_parameters(LSTM(1, width))
    assert abs(count - 70_000) <= min(abs(count_parameters(LSTM(1, w)) - 70_000) for w in (width - 1, width + 1))


@pytest.mark.parametrize("name", encoder_names())
def test_every_family_sizes_to_a_budget(tmp_path, name):
    """Bai et al. 2018 compare models at about 70k parameters: model.target_params does the sizing."""
    cfg = make_cfg(
        tmp_path,
        [
            f"model={name}",
            "data=adding",
            "data.length=20",
            "data.n_train=8",
            "data.n_val=8",
            "data.n_test=8",
            "model.target_params=70000",
        ],
    )
    from hydra.utils import instantiate

    dm = instantiate(cfg.data)
    dm.setup()
    sized = sized_model(cfg, dm.info)
    assert abs(count_parameters(build_task(sized, dm.info)) - 70_000) <= 0.05 * 70_000
    assert "target_params" not in sized.model  # the chosen width is what the run records
