"""Small files in the exact published layouts, written by the tests (never downloaded)."""

import random
from pathlib import Path

import numpy as np
import pandas as pd

TAGS = {
    "the": "DET",
    "a": "DET",
    "cat": "NOUN",
    "dog": "NOUN",
    "mat": "NOUN",
    "sat": "VERB",
    "ran": "VERB",
    "on": "ADP",
    "quickly": "ADV",
}


def conll_file(folder: Path, sentences: int = 120, conllu: bool = False, seed: int = 0) -> Path:
    """CoNLL-2003 style (token POS chunk NER) or CoNLL-U (10 columns, UPOS in column 3)."""
    rng, words, lines = random.Random(seed), sorted(TAGS), ["-DOCSTART- -X- -X- O", ""]
    for s in range(sentences):
        tokens = [rng.choice(words) for _ in range(rng.randint(2, 9))]
        if conllu:
            lines.append(f"# sent_id = {s}")
            lines.append(f"1-2\t{tokens[0]}{tokens[1]}\t_\t_\t_\t_\t_\t_\t_\t_")  # a multiword token line: skipped
            lines += [f"{i}\t{t}\t{t}\t{TAGS[t]}\t_\t_\t0\tdep\t_\t_" for i, t in enumerate(tokens, 1)]
        else:
            lines += [f"{t} XX I-NP {'B-' + TAGS[t] if i == 0 else 'I-' + TAGS[t]}" for i, t in enumerate(tokens)]
        lines.append("")
    path = folder / ("train.conllu" if conllu else "eng.train")
    path.write_text("\n".join(lines) + "\n")
    return path


def pairs_file(folder: Path, n: int = 400, seed: int = 0) -> Path:
    """Tatoeba layout: English<TAB>French<TAB>attribution."""
    rng = random.Random(seed)
    en = {"the cat": "le chat", "a dog": "un chien", "the dog": "le chien", "a cat": "un chat"}
    verbs = {"sleeps": "dort", "runs": "court", "eats": "mange"}
    lines = []
    for i in range(n):
        (s, t), (v, w) = rng.choice(sorted(en.items())), rng.choice(sorted(verbs.items()))
        lines.append(
            f"{s.capitalize()} {v} {i}.\t{t.capitalize()} {w} {i}.\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}"
        )
    path = folder / "fra.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def mnist_root(folder: Path, n_train: int = 60, n_test: int = 20, seed: int = 0) -> Path:
    """MNIST's four idx files, uncompressed, in torchvision's layout <root>/MNIST/raw/."""
    import numpy as np

    rng, raw = np.random.default_rng(seed), folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            np.array([2051, n, 28, 28], ">i4").tobytes() + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(np.array([2049, n], ">i4").tobytes() + labels.tobytes())
    return folder


def speech_commands_root(folder: Path, torchaudio_layout: bool = False, per_word: int = 6, seed: int = 0) -> Path:
    """Speech Commands v0.02 as published: <word>/*.wav (16 kHz), the split lists, _background_noise_."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(seed)
    release = folder / "SpeechCommands" / "speech_commands_v0.02" if torchaudio_layout else folder
    lists = {"validation": [], "testing": []}
    for w, word in enumerate(("no", "yes")):
        (release / word).mkdir(parents=True, exist_ok=True)
        for i in range(per_word):
            n = int(16000 * rng.uniform(0.5, 1.0))
            tone = np.sin(2 * np.pi * (300 + 500 * w) * np.arange(n) / 16000) * 0.3 + 0.01 * rng.standard_normal(n)
            soundfile.write(release / word / f"speaker{i}_nohash_0.wav", tone.astype(np.float32), 16000)
            if i == 0:
                lists["validation"].append(f"{word}/speaker{i}_nohash_0.wav")
            if i == 1:
                lists["testing"].append(f"{word}/speaker{i}_nohash_0.wav")
    (release / "_background_noise_").mkdir(exist_ok=True)
    soundfile.write(
        release / "_background_noise_" / "white.wav", rng.standard_normal(16000).astype(np.float32) * 0.1, 16000
    )
    for name, entries in lists.items():
        (release / f"{name}_list.txt").write_text("\n".join(entries) + "\n")
    return folder


def flickr8k_root(folder: Path, counts: dict | None = None, seed: int = 0) -> Path:
    """Flickr8k as extracted from its two archives: Flicker8k_Dataset/*.jpg and the text files."""
    import numpy as np
    from PIL import Image

    rng, counts = np.random.default_rng(seed), counts or {"train": 6, "dev": 2, "test": 2}
    (folder / "Flicker8k_Dataset").mkdir(parents=True, exist_ok=True)
    tokens, colours = [], ["red", "blue"]
    for split, n in counts.items():
        names = []
        for i in range(n):
            name, c = f"{split}_{i}.jpg", i % 2
            pixels = np.zeros((40, 60, 3), dtype=np.uint8)
            pixels[..., 0 if c == 0 else 2] = 200
            Image.fromarray(pixels + rng.integers(0, 20, pixels.shape, dtype=np.uint8)).save(
                folder / "Flicker8k_Dataset" / name
            )
            names.append(name)
            tokens += [f"{name}#{k}\tA {colours[c]} picture , number {k} ." for k in range(5)]
        (folder / f"Flickr_8k.{split}Images.txt").write_text("\n".join(names) + "\n")
    (folder / "Flickr8k.token.txt").write_text("\n".join(tokens) + "\n")
    return folder


def data_overrides(name: str, folder: Path) -> list[str]:
    """Overrides pointing a data config that needs files at fixtures made in ``folder``."""
    if name == "flickr8k":
        return [
            f"data.root={flickr8k_root(folder)}",
            "data.num_workers=0",
            "data.image_size=32",
            "data.min_count=1",
            "data.batch_size=4",
        ]
    if name == "speech_commands":
        return [f"data.root={speech_commands_root(folder)}", "data.num_workers=0", "data.batch_size=4"]
    if name in ("seq_mnist", "permuted_mnist"):
        return [f"data.root={mnist_root(folder)}", "data.n_val=10", "data.batch_size=8"]
    if name == "conll":
        return [f"data.path={conll_file(folder)}"]
    if name == "listops":  # LRA's 100,000 expressions of 500-2,000 tokens take a CPU 20 minutes to make
        return [
            "data.n_train=200",
            "data.n_val=40",
            "data.n_test=40",
            "data.min_length=10",
            "data.max_length=60",
            f"data.cache_dir={folder / 'listops'}",
            "data.batch_size=16",
        ]
    if name == "parallel_text":
        return [f"data.path={pairs_file(folder)}"]
    if name == "labelled_series":
        return [
            f"data.path={activity_file(folder)}",
            "data.series_id=walk",
            "data.values=[ax,ay]",
            "data.label=activity",
            "data.context=16",
        ]
    if name == "series":
        return [
            f"data.path={series_file(folder)}",
            "data.time=date",
            "data.series_id=store",
            "data.targets=[sales]",
            "data.covariates=[price]",
            "data.context=28",
            "data.horizon=7",
        ]
    return []


def activity_file(folder: Path, walks: int = 3, steps: int = 240) -> Path:
    """Walks of a two-axis accelerometer whose activity (rest, walk, run) changes every 40 steps: rest is quiet,
    walking swings slowly, running fast and wide."""
    g = np.random.default_rng(1)
    lines = ["walk,ax,ay,activity"]
    for w in range(walks):
        for t in range(steps):
            activity = ["rest", "walk", "run"][(t // 40 + w) % 3]
            amp, freq = {"rest": (0.05, 0.0), "walk": (1.0, 0.2), "run": (2.5, 0.6)}[activity]
            ax, ay = (
                amp * np.sin(freq * t) + 0.1 * g.standard_normal(),
                amp * np.cos(freq * t) + 0.1 * g.standard_normal(),
            )
            lines.append(f"w{w},{ax:.4f},{ay:.4f},{activity}")
    path = folder / "walks.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def series_file(folder: Path, days: int = 150) -> Path:
    """Two stores' daily sales (a weekly cycle, a trend, noise) and a price known in advance, long format."""
    g = np.random.default_rng(0)
    t = np.arange(days)
    rows = []
    for store, level in (("a", 100.0), ("b", 20.0)):
        price = 1 + 0.1 * g.standard_normal(days)
        sales = level * (1 + 0.3 * np.sin(2 * np.pi * t / 7)) + 0.2 * t - 5 * price + g.standard_normal(days)
        rows += [
            f"{store},{d},{s:.4f},{p:.4f}"
            for d, s, p in zip(pd.date_range("2024-01-01", periods=days).date, sales, price)
        ]
    path = folder / "sales.csv"
    path.write_text("store,date,sales,price\n" + "\n".join(rows) + "\n")
    return path
