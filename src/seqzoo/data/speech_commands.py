"""Keyword spotting on Speech Commands v0.02 (Warden 2018; CC BY 4.0), many-to-one: a one-second clip
-> the word spoken, over every word folder of the release (35 words) or those in ``words``.

``root=`` may hold torchaudio's layout (``SpeechCommands/speech_commands_v0.02/<word>/*.wav``) or the
archive extracted as it comes (``<word>/*.wav``, ``validation_list.txt``, ``testing_list.txt``);
``download=true`` fetches and extracts the official archive into ``root`` (2.3 GB). The official lists
decide the splits. WAV files are read with soundfile, padded or cut to one second, and turned into log-Mel
or MFCC frames (torchaudio); per-channel normalisation is fitted on up to ``norm_files`` training clips.
SpecAugment-style frequency and time masking (torchaudio) is applied to training clips only.
"""

import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from seqzoo.data.base import SequenceDataModule
from seqzoo.data.batch import INPUTS, TARGETS
from seqzoo.errors import SeqzooError

URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"
RATE = 16_000


def find_release(root: Path) -> Path:
    """The folder holding the word folders and split lists, in either layout."""
    for candidate in (root / "SpeechCommands" / "speech_commands_v0.02", root):
        if (candidate / "testing_list.txt").is_file() and (candidate / "validation_list.txt").is_file():
            return candidate
    raise SeqzooError(
        f"Speech Commands v0.02 not found under {root}: expected <word>/*.wav with validation_list.txt and "
        "testing_list.txt, "
        f"there or in SpeechCommands/speech_commands_v0.02/; pass data.download=true to fetch {URL}"
    )


def read_wav(path: Path) -> torch.Tensor:
    import soundfile

    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise SeqzooError(f"cannot read {path} as WAV ({e})") from None
    if rate != RATE:
        raise SeqzooError(f"{path} is sampled at {rate} Hz; Speech Commands clips are {RATE} Hz")
    return torch.from_numpy(audio.mean(axis=1))  # mono (samples,)


class Featurizer(torch.nn.Module):
    """waveform (samples,) -> frames (T, n_features): log-Mel or MFCC of exactly one second."""

    def __init__(self, features: str = "logmel", n_features: int = 40):
        super().__init__()
        import torchaudio.transforms as T

        mel = {"n_fft": 480, "hop_length": 160, "n_mels": n_features}  # 30 ms windows, 10 ms hop
        if features == "mfcc":
            self.transform = T.MFCC(RATE, n_mfcc=n_features, melkwargs=mel)
        elif features == "logmel":
            self.transform = torch.nn.Sequential(T.MelSpectrogram(RATE, **mel), T.AmplitudeToDB(top_db=80))
        else:
            raise SeqzooError(f"data.features must be logmel or mfcc, got {features!r}")

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        wave = torch.nn.functional.pad(wave[:RATE], (0, max(0, RATE - len(wave))))
        return self.transform(wave).T  # (101, n_features)


class Clips(Dataset):
    def __init__(self, files: list[Path], labels: list[int], module: "SpeechCommandsDataModule", augment: bool):
        self.files, self.labels, self.module, self.augment = files, labels, module, augment

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict:
        x = self.module.features(read_wav(self.files[i]))  # (T, F)
        if self.augment:
            x = self.module.spec_augment(x.T.unsqueeze(0)).squeeze(0).T
        return {INPUTS: x, TARGETS: torch.tensor(self.labels[i])}


class SpeechCommandsDataModule(SequenceDataModule):
    mapping = "many_to_one"

    def __init__(
        self,
        root: str = "data",
        download: bool = False,
        words: list[str] | None = None,
        features: str = "logmel",
        n_features: int = 40,
        spec_augment: bool = True,
        freq_mask: int = 8,
        time_mask: int = 20,
        norm_files: int = 1000,
        batch_size: int = 64,
        num_workers: int = 2,
    ):
        super().__init__(batch_size, num_workers)
        import torchaudio.transforms as T

        self.root, self.download, self.words = Path(root).expanduser(), download, words
        self.featurizer = Featurizer(features, n_features)
        self.spec_augment = (
            torch.nn.Sequential(T.FrequencyMasking(freq_mask), T.TimeMasking(time_mask))
            if spec_augment
            else torch.nn.Identity()
        )
        self.norm_files, self.n_features = norm_files, n_features
        self.mean = self.std = None
        self.class_names: list[str] | None = None

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x = self.featurizer(wave)
        return x if self.mean is None else (x - self.mean) / self.std

    def prepare_data(self) -> None:
        if self.download and not any(
            (c / "testing_list.txt").is_file()
            for c in (self.root, self.root / "SpeechCommands" / "speech_commands_v0.02")
        ):
            target = self.root / "SpeechCommands" / "speech_commands_v0.02"
            target.mkdir(parents=True, exist_ok=True)
            archive = target / "speech_commands_v0.02.tar.gz"
            urllib.request.urlretrieve(URL, archive)
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
            archive.unlink()
        find_release(self.root)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        release = find_release(self.root)
        listed = {
            name: {line.strip() for line in (release / f"{name}_list.txt").read_text().splitlines() if line.strip()}
            for name in ("validation", "testing")
        }
        folders = sorted(p.name for p in release.iterdir() if p.is_dir() and not p.name.startswith("_"))
        if self.class_names is None:
            unknown = sorted(set(self.words or []) - set(folders))
            if unknown:
                raise SeqzooError(f"words {unknown} have no folder in {release}; there are: {', '.join(folders)}")
            self.class_names = list(self.words) if self.words else folders
        index = {w: i for i, w in enumerate(self.class_names)}
        split_files = {"train": ([], []), "val": ([], []), "test": ([], [])}
        for word in self.class_names:
            for wav in sorted((release / word).glob("*.wav")):
                rel = f"{word}/{wav.name}"
                split = "test" if rel in listed["testing"] else "val" if rel in listed["validation"] else "train"
                split_files[split][0].append(wav)
                split_files[split][1].append(index[word])
        if not split_files["train"][0]:
            raise SeqzooError(f"no training clips found in {release} for words {self.class_names}")
        if self.mean is None:
            sample = split_files["train"][0][:: max(1, len(split_files["train"][0]) // self.norm_files)][
                : self.norm_files
            ]
            frames = torch.cat([self.featurizer(read_wav(f)) for f in sample])  # (N * T, F)
            self.mean, self.std = frames.mean(0), frames.std(0) + 1e-5
        self.splits = {
            s: Clips(files, labels, self, augment=s == "train") for s, (files, labels) in split_files.items()
        }

    def encode(self, waves: list) -> list[dict]:
        """Raw waveforms at 16 kHz ((samples,) or (samples, channels)) -> items."""
        items = []
        for w in waves:
            w = torch.as_tensor(np.asarray(w, dtype=np.float32))
            items.append({INPUTS: self.features(w.mean(-1) if w.dim() == 2 else w.flatten())})
        return items

    @property
    def info(self) -> dict:
        return {
            "mapping": self.mapping,
            "input_size": self.n_features,
            "num_classes": len(self.class_names),
            "class_names": self.class_names,
            "max_length": RATE // 160 + 1,
        }

    def state_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "class_names": self.class_names}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.std = torch.tensor(state["mean"]), torch.tensor(state["std"])
        self.class_names = state["class_names"]
