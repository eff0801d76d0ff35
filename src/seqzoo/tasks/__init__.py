"""Task mappings as LightningModules; each takes a backbone and adds heads, losses and metrics."""

from seqzoo.tasks.many_to_one import ManyToOne

__all__ = ["ManyToOne"]
