"""Every DataModule, discovered from configs/data/: the batch contract, masks that agree with lengths,
no evaluated example in training, vocabularies from training data only, the same seed -> the same data."""

import hashlib

import pytest
import torch
from hydra.utils import instantiate

from seqzoo.data.batch import CONDITION, INPUT_MASK, INPUTS, TARGET_MASK, TARGETS
from seqzoo.layers.masking import IGNORE_INDEX
from tests.conftest import config_names, make_cfg
from tests.data.fixtures import data_overrides

SHRINK = {  # keep generated sets small in tests; a data set not listed is tested at its own size
    "adding": ["data.length=50", "data.n_train=500", "data.n_val=100", "data.n_test=100"],
    "copy_memory": ["data.blank_length=30", "data.n_train=500", "data.n_val=100", "data.n_test=100"],
    "selective_copy": ["data.length=40", "data.n_train=500", "data.n_val=100", "data.n_test=100"],
    "digit_strips": ["data.strips_per_split={train: 300, val: 50, test: 50}"],
    **{t: ["data.n_train=2000", "data.n_val=200", "data.n_test=200"] for t in ("reverse", "sort", "addition")},
}


def datamodule(name: str, tmp_path, extra=()):
    cfg = make_cfg(tmp_path, [f"data={name}", *SHRINK.get(name, []), *data_overrides(name, tmp_path), *extra])
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def fingerprint(item: dict) -> str:
    h = hashlib.sha1()
    for key in (INPUTS, CONDITION):
        if key in item:
            h.update(item[key].numpy().tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", config_names("data"))
def test_batches_keep_the_contract(name, tmp_path):
    dm = datamodule(name, tmp_path)
    info = dm.info
    assert info["mapping"] == dm.mapping
    assert next(iter(dm.train_dataloader())).keys() == next(iter(dm.test_dataloader())).keys()
    batch = next(iter(dm.test_dataloader()))  # unshuffled: row i is test item i
    items = [dm.splits["test"][i] for i in range(len(batch[TARGETS]))]
    assert TARGETS in batch
    n = len(batch[TARGETS])
    if INPUTS in batch:
        x, mask = batch[INPUTS], batch[INPUT_MASK]
        assert mask.dtype == torch.bool and mask.shape == x.shape[:2] and x.shape[0] == n
        assert x.dtype == (torch.long if "input_vocab_size" in info else torch.float32)
        assert bool(mask[:, 0].all()) and not bool((mask[:, 1:] & ~mask[:, :-1]).any())  # right-padded
        assert mask.sum(1).tolist() == [len(it[INPUTS]) for it in items]
    if dm.sequence_targets:
        assert batch[TARGET_MASK].shape == batch[TARGETS].shape
        assert (batch[TARGETS][~batch[TARGET_MASK]] == IGNORE_INDEX).all()  # padding is never scored (a data set
        # may also leave real steps unscored with IGNORE_INDEX: selective copy scores the recall steps only)
        assert batch[TARGET_MASK].sum(1).tolist() == [len(it[TARGETS]) for it in items]
        if dm.mapping == "aligned":
            assert batch[TARGETS].shape == batch[INPUTS].shape[:2]
    elif dm.mapping == "forecast":  # (B, horizon, targets) real values; the horizon's known features beside them
        assert (
            batch[TARGETS].shape == (n, info["horizon"], info["num_targets"]) and batch[TARGETS].dtype == torch.float32
        )
        assert batch["future"].shape == (n, info["horizon"], info["future_size"])
        assert batch[INPUTS].shape[2] == info["input_size"]
    else:
        assert batch[TARGETS].shape[0] == n and batch[TARGETS].dim() == 1
    if CONDITION in batch:
        assert list(batch[CONDITION].shape[1:]) == info["condition_shape"]


@pytest.mark.parametrize("name", config_names("data"))
def test_no_evaluated_example_is_in_training(name, tmp_path):
    dm = datamodule(name, tmp_path)
    train = {fingerprint(dm.splits["train"][i]) for i in range(len(dm.splits["train"]))}
    for split in ("val", "test"):
        held_out = [fingerprint(dm.splits[split][i]) for i in range(len(dm.splits[split]))]
        assert held_out and not train.intersection(held_out), f"{name}: {split} examples also in train"


@pytest.mark.parametrize("name", config_names("data"))
def test_the_same_seed_gives_the_same_data(name, tmp_path):
    a, b = datamodule(name, tmp_path), datamodule(name, tmp_path)
    for split in ("train", "test"):
        n = min(20, len(a.splits[split]))
        prints = []
        for dm in (a, b):
            torch.manual_seed(0)  # training augmentation draws from the global generator
            prints.append([fingerprint(dm.splits[split][i]) for i in range(n)])
        assert prints[0] == prints[1]
    assert a.state_dict() == b.state_dict()


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in config_names("data")
        if n in ("reverse", "addition", "char_lm", "digit_strips", "g2p_cmudict", "parallel_text")
    ],
)
def test_vocabularies_come_from_training_data_only(name, tmp_path):
    dm = datamodule(name, tmp_path)
    vocab = getattr(dm, "target_vocab", None) or dm.vocab
    train_ids = set()
    for i in range(len(dm.splits["train"])):
        train_ids.update(dm.splits["train"][i][TARGETS].tolist())
    used = {t for t in range(4, len(vocab))}
    assert used <= train_ids, "every non-special token of the vocabulary occurs in the training targets"
