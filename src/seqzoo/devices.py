"""Refuse, in one sentence, a device or precision the machine cannot give, before Lightning raises its own
``MisconfigurationException('No supported gpu backend found!')`` from deep inside the Trainer."""

import torch
from omegaconf import DictConfig

from seqzoo.errors import SeqzooError


def check_devices(trainer: DictConfig) -> None:
    accelerator, devices = str(trainer.get("accelerator", "auto")), trainer.get("devices", "auto")
    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if accelerator in ("gpu", "cuda"):
        if not found:
            raise SeqzooError(
                f"trainer.accelerator={accelerator} asks for a GPU but torch finds none (CUDA available: no); "
                "use trainer=cpu, or install a CUDA build of torch on a machine with a GPU"
            )
        if isinstance(devices, int) and devices > found:
            raise SeqzooError(
                f"trainer.devices={devices} asks for {devices} GPUs but this machine has {found}; "
                f"use trainer.devices={found} or trainer.devices=-1 (all of them)"
            )
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not found)
    if on_cpu and str(trainer.get("precision", "32-true")) in ("16-mixed", "16", "16-true"):
        raise SeqzooError(
            f"trainer.precision={trainer.precision} needs a GPU and this run is on the CPU; "
            "use trainer.precision=bf16-mixed or 32-true"
        )
