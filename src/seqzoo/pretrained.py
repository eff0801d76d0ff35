"""Trained models by name: ``list_pretrained()``, ``load_pretrained(name)``, and ``pretrained=<name>`` for
``seqzoo-eval`` and ``seqzoo-predict``.

The registry is ``seqzoo/weights/registry.json``: per name, the checkpoint's sha256, where it comes from (a
``file`` inside the package, or a ``url``), the preset and seqzoo version that trained it, its data and
licence, and its measured test metrics. Small checkpoints (stripped of optimiser state) ship inside the
package; others are downloaded once into the cache folder (``$SEQZOO_CACHE``, else ``~/.cache/seqzoo``):
written to a temporary name and renamed only when the whole file's sha256 matches the registry's; a mismatch
deletes it and says so. A cached file is checked again before use, and nothing is fetched when it matches.
Loading goes through the same safe loader as any checkpoint (tensors and plain data only, building blocks
from seqzoo's own configs only). ``scripts/make_pretrained.py`` builds an entry from a training run.
"""

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from seqzoo.errors import SeqzooError

WEIGHTS = Path(__file__).parent / "weights"


def registry() -> dict:
    path = WEIGHTS / "registry.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def list_pretrained() -> dict[str, str]:
    """{name: one line on what it is and how well it does}."""
    return {
        name: f"{e['description']} ({', '.join(f'{k} {v}' for k, v in e.get('metrics', {}).items())})"
        for name, e in registry().items()
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("SEQZOO_CACHE") or Path.home() / ".cache" / "seqzoo")


def entry(name: str) -> dict:
    known = registry()
    if name not in known:
        raise SeqzooError(f"no pretrained model named {name!r}; known: {', '.join(sorted(known)) or 'none'}")
    return known[name]


def fetch(name: str) -> Path:
    """The checkpoint file of ``name``, its sha256 checked: the package's own, or downloaded into the cache."""
    e = entry(name)
    if e.get("file"):
        path = WEIGHTS / e["file"]
        if sha256(path) != e["sha256"]:
            raise SeqzooError(
                f"{path} does not match its registered sha256: the installed package is damaged; reinstall seqzoo"
            )
        return path
    path = cache_dir() / f"{name}-{e['sha256'][:12]}.ckpt"
    if path.is_file():
        if sha256(path) == e["sha256"]:
            return path
        path.unlink()  # damaged since: fetched again below
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(e["url"], timeout=60) as response:
            shutil.copyfileobj(response, out)
        got = sha256(Path(tmp))
        if got != e["sha256"]:
            raise SeqzooError(
                f"{e['url']} gave a file whose sha256 is {got}, not the registered {e['sha256']}; it was deleted. "
                "The download was damaged or the file changed upstream: try again, or report it"
            )
        os.replace(tmp, path)
    except OSError as err:
        raise SeqzooError(f"cannot download {name} from {e['url']}: {err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def resolve(cfg):
    """An eval / predict / export config naming ``pretrained=<name>`` -> a copy naming its checked checkpoint file
    as ``ckpt_path`` (what the commands read); any other config unchanged. The commands' CLI calls this."""
    if not cfg.get("pretrained"):
        return cfg
    import copy

    from omegaconf import open_dict

    cfg = copy.deepcopy(cfg)  # the composed config stays as it was
    with open_dict(cfg):
        cfg.ckpt_path = str(fetch(cfg.pretrained))
    return cfg


def load_pretrained(name: str):
    """-> the task module (a LightningModule in eval mode, on the CPU) with its trained weights; its data module's
    fitted state is in ``.datamodule`` for encoding raw inputs."""
    from omegaconf import OmegaConf

    from seqzoo.train import restore

    _, datamodule, task = restore(OmegaConf.create({"ckpt_path": str(fetch(name))}))
    task.datamodule = datamodule
    return task.eval()
