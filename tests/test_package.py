"""Library users import modules alone: seqzoo.models and seqzoo.layers must not pull in the training stack."""

import subprocess
import sys


def test_models_import_without_lightning_hydra_or_dataset_packages():
    code = (
        "import sys, seqzoo.models, seqzoo.diagnostics, seqzoo.layers.attention, seqzoo.layers.pooling, "
        "seqzoo.layers.positional;"
        "heavy = [m for m in ('lightning', 'pytorch_lightning', 'hydra', 'omegaconf', 'sktime', 'torchmetrics', "
        "'torchvision', 'torchaudio') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
