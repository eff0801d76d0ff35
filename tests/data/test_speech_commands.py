import pytest
import torch

from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.data.speech_commands import SpeechCommandsDataModule
from seqzoo.errors import SeqzooError
from tests.data.fixtures import speech_commands_root


@pytest.mark.parametrize("torchaudio_layout", [False, True])
@pytest.mark.parametrize("features", ["logmel", "mfcc"])
def test_both_layouts_official_splits_and_features(tmp_path, torchaudio_layout, features):
    dm = SpeechCommandsDataModule(
        root=str(speech_commands_root(tmp_path, torchaudio_layout)), features=features, num_workers=0
    )
    dm.prepare_data()
    dm.setup()
    assert {k: len(v) for k, v in dm.splits.items()} == {
        "train": 8,
        "val": 2,
        "test": 2,
    }  # lists decide; noise excluded
    assert dm.info["class_names"] == ["no", "yes"] and dm.info["input_size"] == 40
    item = dm.splits["test"][0]
    assert item[INPUTS].shape == (101, 40) and torch.isfinite(item[INPUTS]).all() and item[TARGETS] == 0


def test_spec_augment_only_in_training(tmp_path):
    dm = SpeechCommandsDataModule(root=str(speech_commands_root(tmp_path)), num_workers=0, time_mask=50, freq_mask=20)
    dm.setup()
    torch.manual_seed(0)
    train_a, train_b = dm.splits["train"][0][INPUTS], dm.splits["train"][0][INPUTS]
    assert not torch.equal(train_a, train_b)  # masks drawn anew each time
    assert torch.equal(dm.splits["test"][0][INPUTS], dm.splits["test"][0][INPUTS])


def test_words_subset_and_errors(tmp_path):
    root = str(speech_commands_root(tmp_path))
    dm = SpeechCommandsDataModule(root=root, words=["yes"], num_workers=0)
    dm.setup()
    assert dm.info["num_classes"] == 1 and len(dm.splits["train"]) == 4
    with pytest.raises(SeqzooError, match=r"words \['maybe'\] have no folder"):
        SpeechCommandsDataModule(root=root, words=["maybe"]).setup()
    with pytest.raises(SeqzooError, match="not found.*data.download=true"):
        SpeechCommandsDataModule(root=str(tmp_path / "empty")).prepare_data()


def test_train_and_predict_on_wav_files(tmp_path):
    import csv

    from seqzoo.train import predict, train
    from tests.conftest import make_cfg

    root = speech_commands_root(tmp_path / "data")
    out = tmp_path / "run"
    train(
        make_cfg(
            out,
            [
                "data=speech_commands",
                f"data.root={root}",
                "data.num_workers=0",
                "data.batch_size=4",
                "model.hidden_size=16",
                "trainer.max_epochs=2",
                "logger=csv",
            ],
        )
    )
    cfg = make_cfg(tmp_path / "p", [f"ckpt_path={out}/checkpoints/best.ckpt", f"input={root}/yes"], name="predict")
    rows = list(csv.DictReader(open(predict(cfg))))
    assert len(rows) == 6 and {r["prediction"] for r in rows} <= {"no", "yes"}
