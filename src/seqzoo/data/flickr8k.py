"""Flickr8k image captioning (one-to-many; Hodosh et al. 2013): 8,091 photos with five captions each.

``root=`` is the folder where the two official archives were extracted, as published:
``Flicker8k_Dataset/*.jpg`` (sic) and the text files ``Flickr8k.token.txt`` (``<image>#<n><TAB>caption``),
``Flickr_8k.trainImages.txt``, ``Flickr_8k.devImages.txt``, ``Flickr_8k.testImages.txt`` (directly in
``root`` or in ``root/Flickr8k_text``). ``download=true`` fetches both archives from a public mirror.
The official lists decide the splits (6,000 / 1,000 / 1,000 images). Training uses every caption of an
image; validation and test use each image once, scored against its first caption (BLEU against one
reference: lower than the five-reference figures papers report). Images go through torchvision
transforms (resize, ImageNet normalisation); the word vocabulary comes from training captions
(``min_count``).
"""

import re
import urllib.request
import zipfile
from pathlib import Path

import torch
from torch.utils.data import Dataset

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import CONDITION, TARGETS
from seqzoo.data.reading import text_lines
from seqzoo.data.vocab import Vocab
from seqzoo.errors import SeqzooError

MIRROR = "https://github.com/jbrownlee/Datasets/releases/download/Flickr8k/"
ARCHIVES = ("Flickr8k_Dataset.zip", "Flickr8k_text.zip")
SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
WORD = re.compile(r"[a-z]+")


def text_folder(root: Path) -> Path:
    for candidate in (root, root / "Flickr8k_text"):
        if (candidate / "Flickr8k.token.txt").is_file():
            return candidate
    raise SeqzooError(
        f"Flickr8k not found under {root}: expected Flicker8k_Dataset/*.jpg and Flickr8k.token.txt with the split "
        "lists "
        "(from Flickr8k_Dataset.zip and Flickr8k_text.zip); pass data.download=true to fetch them"
    )


def read_captions(path: Path) -> dict[str, list[str]]:
    """{image file: [caption, ...]} in the order of the file."""
    captions: dict[str, list[str]] = {}
    for number, line in text_lines(path):
        if not line.strip():
            continue
        key, sep, caption = line.partition("\t")
        if not sep or "#" not in key:
            raise SeqzooError(f"{path}:{number}: expected '<image>#<n><TAB><caption>', got {line[:60]!r}")
        captions.setdefault(key.split("#")[0], []).append(" ".join(WORD.findall(caption.lower())))
    return captions


class Photos(Dataset):
    def __init__(self, pairs: list[tuple[Path, str]], module: "Flickr8kDataModule"):
        self.pairs, self.module = pairs, module

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict:
        image, caption = self.pairs[i]
        return {
            CONDITION: self.module.image(image),
            TARGETS: torch.tensor(self.module.vocab.encode(caption.split(), eos=True)),
        }


class Flickr8kDataModule(SequenceDataModule):
    mapping = "one_to_many"
    sequence_targets = True

    def __init__(
        self,
        root: str = "data/flickr8k",
        download: bool = False,
        image_size: int = 224,
        min_count: int = 5,
        max_caption_length: int = 30,
        batch_size: int = 32,
        num_workers: int = 4,
    ):
        super().__init__(batch_size, num_workers)
        self.root, self.download, self.image_size = Path(root).expanduser(), download, image_size
        self.min_count, self.max_caption_length = min_count, max_caption_length
        self.vocab: Vocab | None = None

    def image(self, source) -> torch.Tensor:
        """A path or an array (H, W, 3) in 0-255 -> a normalised (3, S, S) tensor."""
        from PIL import Image
        from torchvision import transforms as T

        try:
            img = (
                Image.open(source).convert("RGB")
                if isinstance(source, (str, Path))
                else Image.fromarray(source.astype("uint8")).convert("RGB")
            )
        except (OSError, ValueError, TypeError) as e:  # PIL's UnidentifiedImageError is an OSError; truncated files too
            raise SeqzooError(
                f"cannot read image {source if isinstance(source, (str, Path)) else 'array'}: {e}"
            ) from None
        transform = T.Compose(
            [
                T.Resize((self.image_size, self.image_size)),
                T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ]
        )
        return transform(img)

    def prepare_data(self) -> None:
        if self.download and not any(
            (c / "Flickr8k.token.txt").is_file() for c in (self.root, self.root / "Flickr8k_text")
        ):
            self.root.mkdir(parents=True, exist_ok=True)
            for name in ARCHIVES:
                urllib.request.urlretrieve(MIRROR + name, self.root / name)
                with zipfile.ZipFile(self.root / name) as z:
                    z.extractall(self.root)
                (self.root / name).unlink()
        text_folder(self.root)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        text = text_folder(self.root)
        captions = read_captions(text / "Flickr8k.token.txt")
        images = self.root / "Flicker8k_Dataset"
        names = {}
        for split, file in SPLIT_FILES.items():
            if not (text / file).is_file():
                raise SeqzooError(f"split list {text / file} is missing; it comes with Flickr8k_text.zip")
            names[split] = [n.strip() for _, n in text_lines(text / file) if n.strip()]
        uncaptioned = [n for ns in names.values() for n in ns if not captions.get(n)]
        if uncaptioned:
            raise SeqzooError(
                f"{len(uncaptioned)} listed images have no caption in {text / 'Flickr8k.token.txt'} (e.g. "
                f"{uncaptioned[0]})"
            )
        missing = [n for ns in names.values() for n in ns if not (images / n).is_file()]
        if missing:
            raise SeqzooError(
                f"{len(missing)} listed images are missing from {images} (e.g. {missing[0]}); extract "
                "Flickr8k_Dataset.zip there"
            )
        if self.vocab is None:
            self.vocab = Vocab.build(
                (c.split() for n in names["train"] for c in captions[n]), " ", min_count=self.min_count
            )
        cut = lambda c: " ".join(c.split()[: self.max_caption_length])
        self.splits = {
            "train": Photos([(images / n, cut(c)) for n in names["train"] for c in captions[n]], self),
            "val": Photos([(images / n, captions[n][0]) for n in names["val"]], self),
            "test": Photos([(images / n, captions[n][0]) for n in names["test"]], self),
        }

    def encode(self, images: list) -> list[dict]:
        return [{CONDITION: self.image(img)} for img in images]

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "condition_shape": [3, self.image_size, self.image_size],
            "target_tokens": self.vocab.tokens,
            "target_separator": " ",
            "max_target_length": self.max_caption_length + 1,
            "bleu": True,
        }

    def state_dict(self) -> dict:
        return {"vocab": self.vocab.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.vocab = Vocab.from_state(state["vocab"])
