"""The contract every seqzoo DataModule keeps, and the loaders they share.

- ``mapping``: the task mapping the data serves (many_to_one, aligned, seq2seq, one_to_many).
- ``setup()`` fills ``self.splits`` = {"train", "val", "test"} with items: dicts of unbatched tensors
  under the batch keys of ``seqzoo.data.batch``.
- ``info``: sizes the model and task need (input_size or input_vocab_size, num_classes, vocabularies,
  padding ids); ``train(cfg)`` passes them on, so no config hard-codes them.
- ``state_dict()`` / ``load_state_dict()``: what was fitted on the training split (normalisation,
  vocabularies), saved in every checkpoint.
- ``encode(raw)``: the user's raw inputs -> items, for ``seqzoo-predict``.
"""

import lightning as L
import torch
from torch.utils.data import Dataset

from seqzoo.data.loading import make_loader


class ArrayItems(Dataset):
    """Items from stacked tensors of equal length, without a Python dict per example held in memory."""

    def __init__(self, **columns: torch.Tensor):
        self.columns = columns
        self.n = len(next(iter(columns.values())))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return {k: v[i] for k, v in self.columns.items()}


class SequenceDataModule(L.LightningDataModule):
    mapping = "many_to_one"
    sequence_targets = False  # True: targets are sequences, padded with IGNORE_INDEX
    reads_text = False  # True: seqzoo-predict feeds it lines of text; otherwise numeric arrays
    missing_values = False  # True: NaN in numeric inputs marks a missing value, which encode() fills

    def __init__(self, batch_size: int = 32, num_workers: int = 0, bucket_by_length: bool = False):
        super().__init__()
        self.batch_size, self.num_workers, self.bucket_by_length = batch_size, num_workers, bucket_by_length
        self.splits: dict = {}
        self.resume_at = 0  # batches of the first epoch already trained on (set when resuming mid-epoch)

    @property
    def info(self) -> dict:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def encode(self, raw: list) -> list[dict]:
        raise NotImplementedError(f"{type(self).__name__} cannot predict on raw inputs yet")

    def loader(self, split: str, shuffle: bool = False, skip: int = 0):
        return make_loader(
            self.splits[split],
            self.batch_size,
            shuffle=shuffle,
            seed=torch.initial_seed(),
            num_workers=self.num_workers,
            sequence_targets=self.sequence_targets,
            bucket_by_length=self.bucket_by_length,
            skip=skip,
        )

    def train_dataloader(self):
        skip, self.resume_at = self.resume_at, 0
        return self.loader("train", shuffle=True, skip=skip)

    def val_dataloader(self):
        return self.loader("val")

    def test_dataloader(self):
        return self.loader("test")
