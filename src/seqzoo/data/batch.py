"""The batch every DataModule produces and every task consumes: one dict with fixed keys.

- ``inputs``       (B, T, C) float features, or (B, T) int64 token ids
- ``input_mask``   (B, T) bool, True = real step (right-padded)
- ``targets``      (B,) class ids or (B, K) regression values for many-to-one;
                   (B, T') per step or per output token otherwise, padded with IGNORE_INDEX
- ``target_mask``  (B, T') bool, only for sequence targets
- ``condition``    (B, ...) the vector or image of one-to-many tasks
- forecasting adds ``future`` (B, H, F) known features of the horizon, ``loc``/``scale``/``mase_scale``
  (B, K) and ``series``/``origin`` (B,) (``data/series.py``); any such further key is stacked as it is
"""

import torch
from torch.nn.utils.rnn import pad_sequence

from seqzoo.layers.masking import IGNORE_INDEX, mask_from_lengths

INPUTS, INPUT_MASK, TARGETS, TARGET_MASK, CONDITION = "inputs", "input_mask", "targets", "target_mask", "condition"


def pad(seqs: list[torch.Tensor], value: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad a list of (T_i, ...) tensors -> (B, T, ...) and its (B, T) mask."""
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True, padding_value=value), mask_from_lengths(lengths)


def collate(items: list[dict], sequence_targets: bool = False) -> dict:
    """Items hold unbatched tensors under the batch keys; inputs are padded, targets padded when they are
    sequences (``sequence_targets``) and stacked otherwise, conditions stacked."""
    batch = {}
    if INPUTS in items[0]:
        batch[INPUTS], batch[INPUT_MASK] = pad([it[INPUTS] for it in items])
    if TARGETS in items[0]:
        targets = [it[TARGETS] for it in items]
        if sequence_targets:
            batch[TARGETS], batch[TARGET_MASK] = pad(targets, IGNORE_INDEX)
        else:
            batch[TARGETS] = torch.stack(targets)
    for key in items[0].keys() - batch.keys() - {INPUTS, TARGETS}:
        batch[key] = torch.stack([it[key] for it in items])
    return batch
