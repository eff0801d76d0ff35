import pytest
import torch

from seqzoo.data.batch import INPUT_MASK, INPUTS, TARGETS
from seqzoo.data.ts_format import read_ts
from seqzoo.data.uea import UEADataModule
from seqzoo.errors import SeqzooError
from tests.tolerance import assert_within, bound


def test_japanese_vowels_is_the_published_set():
    dm = UEADataModule("JapaneseVowels", val_fraction=0.1)
    dm.setup()
    sizes = {k: len(v) for k, v in dm.splits.items()}
    assert sizes["train"] + sizes["val"] == 270 and sizes["test"] == 370
    assert sizes["val"] == 27  # 3 per speaker, stratified
    lengths = [len(it[INPUTS]) for split in dm.splits.values() for it in split]
    assert (min(lengths), max(lengths)) == (7, 29)
    info = dm.info
    assert (info["input_size"], info["num_classes"], info["mapping"]) == (12, 9, "many_to_one")
    val_labels = sorted(int(it[TARGETS]) for it in dm.splits["val"])
    assert val_labels == sorted(list(range(9)) * 3)


def test_normalisation_is_fitted_on_the_training_split_only():
    dm = UEADataModule("JapaneseVowels")
    dm.setup()
    train = torch.cat([it[INPUTS] for it in dm.splits["train"]])
    # statistics of the normalised values, fitted in float64 and applied in float32: within a sum over every step
    assert_within(
        train.mean(0), torch.zeros(12), torch.float32, len(train), "the training split's mean after normalising"
    )
    assert_within(train.std(0, unbiased=False), torch.ones(12), torch.float32, len(train), "its standard deviation")
    val = torch.cat([it[INPUTS] for it in dm.splits["val"]])
    assert val.mean(0).abs().max() > 1e-3  # held-out data is not re-centred on itself


def test_state_round_trip_reproduces_the_preprocessing():
    dm = UEADataModule("JapaneseVowels")
    dm.setup()
    fresh = UEADataModule("JapaneseVowels")
    fresh.load_state_dict(dm.state_dict())
    raw = read_ts(dm.files()[1])[0][:5]
    for a, b in zip(fresh.encode(raw), dm.splits["test"][:5]):
        assert torch.equal(a[INPUTS], b[INPUTS])


def test_batches_are_padded_with_masks():
    dm = UEADataModule("JapaneseVowels", batch_size=8)
    dm.setup()
    batch = next(iter(dm.test_dataloader()))
    lengths = batch[INPUT_MASK].sum(1)
    assert batch[INPUTS].shape == (8, int(lengths.max()), 12) and batch[TARGETS].shape == (8,)
    for b, n in enumerate(lengths):
        assert batch[INPUTS][b, n:].abs().sum() == 0


def test_shuffling_depends_only_on_seed_and_epoch():
    dm = UEADataModule("JapaneseVowels", batch_size=300)
    dm.setup()
    torch.manual_seed(3)
    loader = dm.train_dataloader()
    order = lambda: next(iter(loader))[TARGETS].tolist()
    first = order()
    assert order() == first
    loader.sampler.set_epoch(1)
    assert order() != first


def test_unknown_name_lists_what_is_there():
    with pytest.raises(SeqzooError, match="'Nope' not found.*Available there:.*JapaneseVowels"):
        UEADataModule("Nope").prepare_data()


def test_missing_root_says_how_to_fix(tmp_path):
    with pytest.raises(SeqzooError, match="does not exist; pass data.root="):
        UEADataModule("JapaneseVowels", root=str(tmp_path / "nowhere")).prepare_data()


def test_a_user_archive_folder_is_read(tmp_path):
    folder = tmp_path / "Toy"
    folder.mkdir()
    for split, n in [("TRAIN", 6), ("TEST", 4)]:
        lines = ["@problemName Toy", "@dimensions 2", "@classLabel true a b", "@data"]
        for i in range(n):
            t = 3 + i
            lines.append(",".join(["1"] * t) + ":" + ",".join(["?"] + ["2"] * (t - 1)) + (":a" if i % 2 else ":b"))
        (folder / f"Toy_{split}.ts").write_text("\n".join(lines) + "\n")
    dm = UEADataModule("Toy", root=str(tmp_path), val_fraction=0.0)
    dm.setup()
    assert dm.info["class_names"] == ["a", "b"] and dm.info["input_size"] == 2
    assert all(torch.isfinite(it[INPUTS]).all() for it in dm.splits["train"])  # '?' read as missing, filled


def test_every_shipped_set_is_read_comments_included():
    """sktime's UnitTest opens with '%' comment lines: every set in the wheel reads, series and labels paired."""
    from seqzoo.data.uea import available, sktime_data_dir

    root = sktime_data_dir()
    for name in available(root):
        series, labels, header = read_ts(root / name / f"{name}_TRAIN.ts")
        assert len(series) == len(labels) > 0 and "problemname" in header, name


def test_corrupt_ts_file_is_reported(tmp_path):
    bad = tmp_path / "bad.ts"
    bad.write_text("@data\n1,2,x:3\n")
    with pytest.raises(SeqzooError, match="bad.ts:2"):
        read_ts(bad)


def test_length_buckets_cover_every_example_once_with_less_padding():
    plain, bucketed = (
        UEADataModule("JapaneseVowels", batch_size=16),
        UEADataModule("JapaneseVowels", batch_size=16, bucket_by_length=True),
    )
    for dm in (plain, bucketed):
        dm.setup()
    padding = {}
    for name, dm in (("plain", plain), ("bucketed", bucketed)):
        loader = dm.train_dataloader()
        seen, pad = [], 0
        for batch in loader:
            seen.append(len(batch[TARGETS]))
            pad += int((~batch["input_mask"]).sum())
        assert sum(seen) == len(dm.splits["train"])
        padding[name] = pad
    assert padding["bucketed"] < padding["plain"] / 2
    sampler = bucketed.train_dataloader().batch_sampler
    first = list(sampler)
    assert sorted(i for b in first for i in b) == list(range(len(bucketed.splits["train"])))
    sampler.set_epoch(1)
    assert list(sampler) != first


def write_scaled_set(root, scales: list[float]) -> None:
    """A univariate two-class set whose series are the same wiggle at the given scales."""
    folder = root / "Scaled"
    folder.mkdir()
    wiggle = [0.0, 1.0, -1.0, 2.0, 0.5, -0.5]
    for split in ("TRAIN", "TEST"):
        lines = ["@problemName Scaled", "@univariate true", "@classLabel true a b", "@data"]
        lines += [",".join(f"{s * v:g}" for v in wiggle) + f":{'ab'[i % 2]}" for i, s in enumerate(scales)]
        (folder / f"Scaled_{split}.ts").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "scales,mode", [([1, 2, 3, 1.5, 2.5, 0.7], "global"), ([1e-3, 1, 1e2, 1e-2, 10, 5e2], "series")]
)
def test_auto_normalisation_scales_each_series_when_scales_differ_by_orders_of_magnitude(tmp_path, scales, mode):
    write_scaled_set(tmp_path, scales)
    dm = UEADataModule("Scaled", root=str(tmp_path), val_fraction=0.0)
    dm.setup()
    assert dm.normalize == mode and dm.info["input_size"] == (2 if mode == "series" else 1)
    items = [it[INPUTS] for it in dm.splits["train"]]
    if mode == "series":  # every series has the same shape after scaling; its scale survives as a channel
        # rounding (a mean and a deviation over the series) plus the deviation's floor of 1e-8, which moves a
        # value x / s by x / s * 1e-8 / s: most for the smallest scale
        floor = 1e-8 / (min(scales) * float(torch.tensor([0.0, 1.0, -1.0, 2.0, 0.5, -0.5]).std(unbiased=False)))
        for it in items:
            tol = (
                bound(items[0][:, 0], torch.float32, len(it), both=True) + 2 * float(items[0][:, 0].abs().max()) * floor
            )
            assert (it[:, 0] - items[0][:, 0]).abs().max() <= tol, "a series by its own scale"
        levels = torch.stack([it[0, 1] for it in items])
        assert torch.all(levels[torch.tensor(scales).argsort()].diff() > 0)  # ordered as the scales
    fresh = UEADataModule("Scaled", root=str(tmp_path))
    fresh.load_state_dict(dm.state_dict())
    raw = read_ts(dm.files()[1])[0]
    for a, b in zip(fresh.encode(raw), dm.splits["test"]):
        assert torch.equal(a[INPUTS], b[INPUTS])  # prediction applies the fitted normalisation
