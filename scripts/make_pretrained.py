"""Build a registry entry of ``seqzoo.pretrained`` from a finished training run: the checkpoint it tested,
stripped to what inference needs (weights, config, data sizes and fitted data state: no optimiser state, no
loop or random state), its sha256, the preset and seqzoo version, the data, licence and test metrics.

    python scripts/make_pretrained.py logs/train/runs/<run> --name japanese_vowels_lstm \\
        --description "LSTM speaker classifier, JapaneseVowels" --licence "CC BY 4.0 (UCI data)"
    python scripts/make_pretrained.py logs/train/runs/<run> --name g2p_lstm ... \\
        --url https://.../g2p_lstm.ckpt --out dist/

Without ``--url`` the file goes inside the package (``src/seqzoo/weights/``: keep these small); with it, the
file is written to ``--out`` for uploading as a release asset and the entry points at the URL.
"""

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

import torch
import yaml

from seqzoo.checkpoint import KEY, load_checkpoint
from seqzoo.pretrained import WEIGHTS, sha256

KEEP = ("state_dict", KEY, "pytorch-lightning_version")


def strip(ckpt: dict) -> dict:
    out = {k: ckpt[k] for k in KEEP if k in ckpt}
    out[KEY] = {k: v for k, v in out[KEY].items() if k != "rng"}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a training run's folder (it holds metrics.json)")
    p.add_argument("--name", required=True)
    p.add_argument("--description", required=True)
    p.add_argument("--licence", required=True, help="of the data (and so of the weights trained on it)")
    p.add_argument("--url", help="where the file will be downloadable; without it, the file ships in the package")
    p.add_argument("--out", type=Path, default=Path("dist"), help="with --url: where to write the file for uploading")
    args = p.parse_args(argv)
    metrics = json.loads((args.run / "metrics.json").read_text())
    ckpt = strip(load_checkpoint(metrics["tested_checkpoint"]))
    folder = WEIGHTS if not args.url else args.out
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{args.name}.ckpt"
    torch.save(ckpt, path)
    overrides = args.run / ".hydra" / "overrides.yaml"
    config = ckpt[KEY]["config"]
    entry = {
        "description": args.description,
        **({"url": args.url} if args.url else {"file": path.name}),
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "command": "python train.py "
        + " ".join(
            o
            for o in (yaml.safe_load(overrides.read_text()) if overrides.is_file() else [])
            if not o.startswith(("overwrite=", "hydra."))
        ),
        "seqzoo_version": version("seqzoo"),
        "data": config["data"]["_target_"]
        + "".join(f" {k}={config['data'][k]}" for k in ("name",) if k in config["data"]),
        "licence": args.licence,
        "metrics": {k.split("/", 1)[1]: round(v, 4) for k, v in metrics["test"].items()},
    }
    registry_path = WEIGHTS / "registry.json"
    registry = json.loads(registry_path.read_text()) if registry_path.is_file() else {}
    registry[args.name] = entry
    registry_path.write_text(json.dumps(dict(sorted(registry.items())), indent=1) + "\n")
    print(f"{args.name}: {path} ({entry['bytes']:,} bytes, sha256 {entry['sha256'][:16]}...), test {entry['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
