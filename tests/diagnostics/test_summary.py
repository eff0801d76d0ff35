import warnings

import pytest
import torch

from seqzoo.diagnostics.summary import check_reach, parameter_counts, summary
from seqzoo.errors import SeqzooError
from seqzoo.models import LSTM, TCN, TransformerEncoder
from seqzoo.train import train
from tests.conftest import make_cfg


def test_parameter_counts_add_up():
    lstm = LSTM(3, 8)
    assert parameter_counts(lstm)["total"] == 4 * 8 * (3 + 8) + 2 * 4 * 8


def test_tcn_shorter_than_the_data_warns_once():
    tcn = TCN(1, [4, 4], kernel_size=2)
    with pytest.warns(UserWarning, match="receptive field 7 steps, longest sequence 20"):
        check_reach(tcn, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same news from forward would be a second warning
        tcn(torch.zeros(1, 20, 1))
    assert "receptive field 7" in summary(TCN(1, [4, 4], kernel_size=2), 5)


def test_transformer_shorter_than_the_data_is_an_error():
    with pytest.raises(SeqzooError, match="reach 600 steps.*model.max_len=600"):
        check_reach(TransformerEncoder(2, 16, 2, 1, 16, max_len=512), 600)


def test_training_stops_before_it_starts_when_positions_run_out(tmp_path):
    cfg = make_cfg(tmp_path, ["model=transformer", "model.max_len=16", "debug=fast_dev_run"])
    with pytest.raises(SeqzooError, match="reach 29 steps"):
        train(cfg)
