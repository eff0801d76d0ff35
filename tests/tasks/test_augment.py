"""Augmentation transforms training batches only, keeps padding padded, and is what its docstring says."""

import pytest
import torch

from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.errors import SeqzooError
from seqzoo.tasks.augment import Augment
from seqzoo.tasks.many_to_one import ManyToOne
from tests.conftest import small_part


def batch(lengths=(9, 4, 7, 1), channels=2):
    mask = torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]  # (B, T)
    x = torch.randn(len(lengths), max(lengths), channels, dtype=torch.float64) * mask.unsqueeze(-1)
    return x, mask, torch.arange(len(lengths))


def test_everything_off_is_the_identity():
    x, mask, y = batch()
    out, out_mask, y1, y2, weight = Augment()(x, mask, y)
    assert torch.equal(out, x) and torch.equal(out_mask, mask) and weight == 1.0 and torch.equal(y1, y2)


@pytest.mark.parametrize("kwargs", [dict(jitter=0.5), dict(scaling=0.5), dict(window=0.6), dict(mixup=0.4)])
def test_padded_steps_stay_zero_and_masked(kwargs):
    torch.manual_seed(0)
    x, mask, y = batch()
    out, out_mask, *_ = Augment(**kwargs)(x, mask, y)
    assert out.shape == x.shape and not out[~out_mask].any() and out_mask.sum() > 0
    assert not torch.equal(out, x)  # it did transform


def test_a_window_is_a_contiguous_slice_of_each_series_real_steps():
    torch.manual_seed(1)
    x, mask, y = batch((10, 5, 3))
    out, out_mask, *_ = Augment(window=0.7)(x, mask, y)
    for row in range(3):
        n, kept = int(mask[row].sum()), int(out_mask[row].sum())
        assert kept == max(1, -(-7 * n // 10))  # ceil(0.7 n)
        real = out[row, :kept]
        assert any(torch.equal(real, x[row, s : s + kept]) for s in range(n - kept + 1))


def test_mixup_blends_pairs_of_series_and_their_targets_with_one_weight():
    torch.manual_seed(2)
    x, mask, y = batch((6, 6, 6, 6))
    out, _, y1, y2, weight = Augment(mixup=0.4)(x, mask, y)
    assert 0 <= weight <= 1 and torch.equal(y1, y)
    other = y2  # y is arange: the partner of each row
    assert torch.allclose(out, weight * x + (1 - weight) * x[other], rtol=0, atol=1e-12)


def test_validation_and_test_never_see_augmentation():
    """The same weights with and without heavy augmentation: one validation loss and one set of predictions,
    and two training losses (the transform is on)."""
    torch.manual_seed(0)
    x, mask, y = batch()
    plain = ManyToOne(small_part("model", "gru"), num_classes=4, input_size=2).double()
    noisy = ManyToOne(small_part("model", "gru"), num_classes=4, input_size=2, augment=dict(jitter=5.0, mixup=1.0))
    noisy = noisy.double()
    noisy.load_state_dict(plain.state_dict())
    data, logged = {INPUTS: x, INPUT_MASK: mask, TARGETS: y}, {}
    for task in (plain, noisy):
        logged[task] = {}
        task.log = lambda name, value, _into=logged[task], **k: _into.setdefault(name, []).append(value)
        task.log_dict = lambda *a, **k: None  # outside a Trainer
        task.log_train_loss = lambda loss, n, _into=logged[task]: _into.setdefault("train", []).append(loss)
        task.evaluate(data, "val")
        task.evaluate(data, "test")
        task.training_step(data, 0)
    assert torch.equal(logged[plain]["val/loss"][0], logged[noisy]["val/loss"][0])
    assert torch.equal(logged[plain]["test/loss"][0], logged[noisy]["test/loss"][0])
    assert plain.predict_step(data, 0) == noisy.predict_step(data, 0)
    assert not torch.equal(logged[plain]["train"][0], logged[noisy]["train"][0])


def test_bad_settings_and_token_inputs_are_refused():
    with pytest.raises(SeqzooError, match="0 < window <= 1"):
        Augment(window=0.0)
    with pytest.raises(SeqzooError, match="tokens"):
        ManyToOne(small_part("model", "gru"), num_classes=2, input_vocab_size=5, augment=dict(jitter=0.1))
