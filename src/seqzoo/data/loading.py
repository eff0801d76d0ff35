"""DataLoaders whose shuffling depends only on (seed, epoch), so a resumed run sees the batches that the
uninterrupted run would have seen: ``skip`` batches of the first epoch it serves are passed over when a run
resumes from a checkpoint saved mid-epoch. Under DDP, Lightning swaps in its DistributedSampler (also
seeded). The loaders draw from their own generator, not the global one, so that creating one does not
change the dropout masks that follow.

``bucket_by_length`` batches sequences of similar length together (less padding, faster epochs on
variable-length data): a seeded shuffle, sorted by length within windows of 50 batches, batches in random
order. It is meant for one process; under DDP the plain sampler is used."""

from functools import partial

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from seqzoo.data.batch import collate


def first_pass_skipping(sampler, items: list) -> list:
    """``items`` less the first ``sampler.skip`` of them, on the first pass only (an epoch resumed mid-way)."""
    skip, sampler.skip = sampler.skip, 0
    return items[skip:]


class SeededShuffle(Sampler[int]):
    """A fresh permutation each epoch drawn from ``seed + epoch``; Lightning calls ``set_epoch``. ``skip``
    counts items (batches x batch size)."""

    def __init__(self, n: int, seed: int = 0, skip: int = 0):
        self.n, self.seed, self.epoch, self.skip = n, seed, 0, skip

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(first_pass_skipping(self, torch.randperm(self.n, generator=g).tolist()))

    def __len__(self) -> int:
        return self.n


class LengthBuckets(Sampler[list[int]]):
    """Batches of indices of similar length; both the windows and the batch order depend on (seed, epoch)."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int = 0, window: int = 50, skip: int = 0):
        self.lengths, self.batch_size, self.seed, self.window, self.epoch = lengths, batch_size, seed, window, 0
        self.skip = skip  # batches

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=g).tolist()
        span = self.batch_size * self.window
        batches = []
        for start in range(0, len(order), span):
            chunk = sorted(order[start : start + span], key=lambda i: self.lengths[i])
            batches += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        return iter(first_pass_skipping(self, [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]))

    def __len__(self) -> int:
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


def item_length(item: dict) -> int:
    return max(len(v) for k, v in item.items() if k in ("inputs", "targets") and v.dim() > 0)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    sequence_targets: bool = False,
    bucket_by_length: bool = False,
    skip: int = 0,
) -> DataLoader:
    """``skip``: batches of the first epoch already trained on (a resumed run). Under DDP, Lightning wraps the
    sampler in a distributed one that splits its items between processes and needs their full number, so
    there the resumed epoch starts its data order again (Lightning's own behaviour); exact mid-epoch resume
    is single-process."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        skip = 0
    collate_fn = partial(collate, sequence_targets=sequence_targets)
    common = dict(
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
        collate_fn=collate_fn,
        generator=torch.Generator().manual_seed(seed),
    )
    if shuffle and bucket_by_length and not torch.distributed.is_initialized():
        lengths = [item_length(dataset[i]) for i in range(len(dataset))]
        return DataLoader(dataset, batch_sampler=LengthBuckets(lengths, batch_size, seed, skip=skip), **common)
    sampler = SeededShuffle(len(dataset), seed, skip=skip * batch_size) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, **common)
