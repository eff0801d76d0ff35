"""seqzoo: a PyTorch model zoo for sequence task mappings.

``import seqzoo.models`` and ``seqzoo.layers`` need torch alone; Lightning, Hydra and dataset packages
are imported only by the task, data and training modules that use them.
"""

__version__ = "0.1.0"
