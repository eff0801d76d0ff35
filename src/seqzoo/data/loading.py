"""DataLoaders whose shuffling depends only on (seed, epoch), so a resumed run sees the batches that the
uninterrupted run would have seen. Under DDP, Lightning swaps in its DistributedSampler (also seeded)."""

from functools import partial

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from seqzoo.data.batch import collate


class SeededShuffle(Sampler[int]):
    """A fresh permutation each epoch drawn from ``seed + epoch``; Lightning calls ``set_epoch``."""

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    sequence_targets: bool = False,
) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=SeededShuffle(len(dataset), seed) if shuffle else None,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
        collate_fn=partial(collate, sequence_targets=sequence_targets),
    )
