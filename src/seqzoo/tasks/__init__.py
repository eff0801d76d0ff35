"""Task mappings as LightningModules; each takes a backbone (and decoder) and adds heads, losses, metrics."""

from seqzoo.tasks.aligned import Aligned
from seqzoo.tasks.augment import Augment
from seqzoo.tasks.ensemble import Ensemble
from seqzoo.tasks.forecast import Forecast
from seqzoo.tasks.many_to_one import ManyToOne
from seqzoo.tasks.one_to_many import OneToMany
from seqzoo.tasks.seq2seq import Seq2Seq

__all__ = ["ManyToOne", "Aligned", "Seq2Seq", "OneToMany", "Forecast", "Ensemble", "Augment"]
