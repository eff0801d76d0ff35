"""A device or precision the machine cannot give ends in one sentence naming what was found and what to use."""

import pytest
import torch
from omegaconf import OmegaConf

from seqzoo.devices import check_devices
from seqzoo.errors import SeqzooError
from seqzoo.train import train
from tests.conftest import make_cfg

NO_GPU = not torch.cuda.is_available()


@pytest.mark.skipif(not NO_GPU, reason="needs a machine without CUDA")
def test_asking_for_a_gpu_without_one_says_to_use_the_cpu(tmp_path):
    for trainer in ("gpu", "ddp"):
        with pytest.raises(SeqzooError, match="asks for a GPU but torch finds none.*use trainer=cpu"):
            train(make_cfg(tmp_path, [f"trainer={trainer}", "trainer.max_epochs=1"], cpu=False))  # refused before fit


def test_more_gpus_than_there_are_and_half_precision_on_the_cpu_are_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(SeqzooError, match="asks for 4 GPUs but this machine has 2; use trainer.devices=2"):
        check_devices(OmegaConf.create({"accelerator": "gpu", "devices": 4}))
    check_devices(OmegaConf.create({"accelerator": "gpu", "devices": 2}))  # what there is: fine
    with pytest.raises(SeqzooError, match="precision=16-mixed needs a GPU.*bf16-mixed or 32-true"):
        check_devices(OmegaConf.create({"accelerator": "cpu", "precision": "16-mixed"}))
    check_devices(OmegaConf.create({"accelerator": "cpu", "precision": "bf16-mixed"}))
