"""The CUDA path (``scripts/gpu_check.sh`` runs these on a GPU): cuDNN's fused recurrences equal torch.nn's,
``flatten_parameters`` keeps one weight buffer, every family takes a 16-mixed and a bf16-mixed training
step with finite gradients, and ``trainer=gpu`` / one-GPU ``ddp`` train end to end. Skipped, with the
reason, on a machine without CUDA."""

import warnings

import pytest
import torch
from torch import nn

from seqzoo.layers.masking import mask_from_lengths
from seqzoo.models import GRU, LSTM, RNN
from seqzoo.train import train
from tests.conftest import ROOT, encoder_names, make_cfg, run_cli
from tests.tasks.test_matrix import SMALL_DATA
from tests.tolerance import assert_within, chain_depth

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: run scripts/gpu_check.sh on one"),
]
PAIRS = [(RNN, nn.RNN), (LSTM, nn.LSTM), (GRU, nn.GRU)]


@pytest.fixture(autouse=True)
def exact_float32():
    """TF32 would round cuDNN's products to 10 bits; the comparisons are of float32 arithmetic."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


@pytest.mark.parametrize("ours,reference", PAIRS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_recurrences_equal_torch_nn_through_cudnn(ours, reference, bidirectional):
    torch.manual_seed(0)
    ref = reference(6, 16, num_layers=2, batch_first=True, bidirectional=bidirectional).cuda()
    model = ours(6, 16, num_layers=2, bidirectional=bidirectional).cuda()
    model.load_state_dict(ref.state_dict())
    x = torch.randn(4, 13, 6, device="cuda")
    lengths = torch.tensor([13, 9, 4, 1])
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = nn.utils.rnn.pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=13)
    got, _ = model(x, mask_from_lengths(lengths, 13).cuda())
    depth = chain_depth(model, 13)  # cuDNN against our call of it: two float32 evaluations (TF32 off, above)
    assert_within(got, expected, torch.float32, depth, "ours on CUDA against torch.nn, packed", both=True)
    assert_within(model(x)[0], ref(x)[0], torch.float32, depth, "ours on CUDA against torch.nn", both=True)


@pytest.mark.parametrize("ours", [LSTM, GRU])
def test_flatten_parameters_keeps_one_weight_buffer(ours):
    model = ours(6, 16, num_layers=2).cuda()
    storages = {w.untyped_storage().data_ptr() for w in model.flat_weights()}
    assert len(storages) == 1, "after .cuda() every weight should be a view into cuDNN's one buffer"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cuDNN warns when it must copy weights that are not one chunk
        model(torch.randn(2, 5, 6, device="cuda"))[0].sum().backward()


@pytest.mark.parametrize("precision", ["16-mixed", "bf16-mixed"])
@pytest.mark.parametrize("family", encoder_names())
def test_every_family_takes_a_mixed_precision_training_step(tmp_path, family, precision):
    cfg = make_cfg(
        tmp_path,
        [
            "trainer=gpu",
            f"trainer.precision={precision}",
            "debug=fast_dev_run",
            "trainer.accelerator=gpu",
            f"model={family}",
            *SMALL_DATA["many_to_one"],
        ],
        cpu=False,
    )
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["test"]["test/loss"]))


@pytest.mark.parametrize("trainer", ["gpu", "ddp"])
def test_gpu_trainers_train_end_to_end(tmp_path, trainer):
    result = run_cli(
        [
            str(ROOT / "train.py"),
            f"trainer={trainer}",
            "trainer.devices=1",
            "trainer.max_epochs=1",
            "++trainer.limit_train_batches=5",
            "++trainer.limit_val_batches=2",
            "++trainer.limit_test_batches=2",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "metrics.json").exists()
