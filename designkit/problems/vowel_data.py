"""Spoken-vowel datasets: Hillenbrand-format WAV folders, windows and stratified folds.

A folder holds files named ``[m|w]NN<vowel>.wav`` (gender, two-digit speaker number, vowel code),
as in Hillenbrand, Getty, Clark & Wheeler, "Acoustic characteristics of American English vowels",
J. Acoust. Soc. Am. 97(5), 3099–3111 (1995). Other children of the folder are ignored; a file
whose name matches but that cannot be read as mono PCM audio is an error naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import DesignValueError

#: The twelve vowel codes of the Hillenbrand recordings (had, hod, hawed, head, hayed, heard,
#: hid, heed, hoed, hood, hud, who'd).
VOWELS: tuple[str, ...] = ("ae", "ah", "aw", "eh", "ei", "er", "ih", "iy", "oa", "oo", "uh", "uw")
GENDERS: tuple[str, ...] = ("m", "w")

_NAME = re.compile(r"^(?P<gender>[mw])(?P<speaker>\d{2})(?P<vowel>[a-z]{2})\.wav$")


@dataclass(frozen=True)
class VowelSet:
    """Recordings of chosen vowels, resampled and power-normalized.

    Attributes:
        waveforms: one float32 array per recording (mean power 1), at ``rate`` Hz.
        labels: class index of each recording (position of its vowel in ``vowels``).
        speakers: speaker id of each recording, e.g. ``"w07"``.
        vowels: the class names, in label order.
        rate: sample rate (Hz).
    """

    waveforms: tuple[np.ndarray, ...]
    labels: np.ndarray
    speakers: tuple[str, ...]
    vowels: tuple[str, ...]
    rate: int

    def __len__(self) -> int:
        return len(self.waveforms)

    def subset(self, index: Sequence[int] | np.ndarray) -> VowelSet:
        """The recordings at ``index``, in that order."""
        idx = [int(i) for i in index]
        return VowelSet(
            waveforms=tuple(self.waveforms[i] for i in idx), labels=self.labels[idx],
            speakers=tuple(self.speakers[i] for i in idx), vowels=self.vowels, rate=self.rate,
        )


def _check_choice(name: str, chosen: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(chosen)
    bad = [c for c in chosen if c not in allowed]
    if bad or not chosen or len(set(chosen)) != len(chosen):
        raise DesignValueError(
            f"{name} must be distinct values from {', '.join(allowed)}; got {list(chosen)}"
        )
    return chosen


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample ``x`` from ``rate_in`` to ``rate_out`` Hz (polyphase, anti-aliased)."""
    if rate_in == rate_out:
        return x.astype(np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(rate_in), int(rate_out))
    return resample_poly(x.astype(np.float64), rate_out // g, rate_in // g).astype(np.float32)


def normalize_power(x: np.ndarray) -> np.ndarray:
    """Scale ``x`` to mean power 1 (mean of x²); raises for a silent recording."""
    power = float(np.mean(np.square(x, dtype=np.float64)))
    if power <= 0:
        raise DesignValueError("a recording is silent (all zeros): it cannot be normalized")
    return (x / np.sqrt(power)).astype(np.float32)


def load_vowel_folder(
    folder: str | Path,
    *,
    vowels: Sequence[str] = ("ae", "ei", "iy"),
    genders: Sequence[str] = GENDERS,
    rate: int = 10_000,
) -> VowelSet:
    """Load every matching recording of ``folder``, resampled to ``rate`` and power-normalized.

    Args:
        folder: a folder of ``[m|w]NN<vowel>.wav`` files (e.g. the Hillenbrand recordings).
        vowels: vowel codes to keep, in label order.
        genders: ``"m"`` and/or ``"w"``.
        rate: output sample rate in Hz (the reference model uses 10 kHz).

    Returns:
        A :class:`VowelSet` sorted by speaker then vowel.

    Raises:
        DesignValueError: the folder is missing or holds no matching file, a choice is invalid,
            or a matching file is not readable mono PCM audio (the message names the file).
    """
    from scipy.io import wavfile

    vowels = _check_choice("vowels", vowels, VOWELS)
    genders = _check_choice("genders", genders, GENDERS)
    if int(rate) != rate or rate < 1000:
        raise DesignValueError(f"rate must be an integer ≥ 1000 Hz, got {rate!r}")
    path = Path(folder)
    if not path.is_dir():
        raise DesignValueError(
            f"vowel data folder {str(path)!r} does not exist or is not a folder; give a folder "
            f"of [m|w]NN<vowel>.wav files, or none to use the built-in synthetic vowels"
        )
    entries = []
    for file in sorted(path.iterdir()):
        match = _NAME.match(file.name)
        if not match or match["vowel"] not in vowels or match["gender"] not in genders:
            continue
        entries.append((match["gender"] + match["speaker"], vowels.index(match["vowel"]), file))
    if not entries:
        raise DesignValueError(
            f"{str(path)!r} holds no recording of vowels {list(vowels)} by genders "
            f"{list(genders)} named like m01ae.wav"
        )
    entries.sort(key=lambda e: (e[0], e[1]))
    waves, labels, speakers = [], [], []
    for speaker, label, file in entries:
        try:
            file_rate, data = wavfile.read(file)
        except (ValueError, OSError) as exc:
            raise DesignValueError(f"{file} is not a readable WAV file: {exc}") from None
        if data.ndim != 1:
            raise DesignValueError(f"{file} has {data.shape[1]} channels; mono recordings only")
        if data.size == 0:
            raise DesignValueError(f"{file} holds no samples")
        if np.issubdtype(data.dtype, np.integer):
            data = data.astype(np.float64) / float(np.iinfo(data.dtype).max)
        try:
            waves.append(normalize_power(resample(data, file_rate, int(rate))))
        except DesignValueError as exc:
            raise DesignValueError(f"{file}: {exc}") from None
        labels.append(label)
        speakers.append(speaker)
    return VowelSet(tuple(waves), np.asarray(labels, np.int64), tuple(speakers), vowels, int(rate))


def centre_window(x: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` samples at the centre of ``x``, zero-padded evenly if ``x`` is shorter."""
    if length < 1:
        raise DesignValueError(f"window length must be ≥ 1 sample, got {length}")
    if x.size >= length:
        start = (x.size - length) // 2
        return x[start:start + length]
    before = (length - x.size) // 2
    return np.pad(x, (before, length - x.size - before))


def stratified_folds(labels: np.ndarray, folds: int, *, seed: int = 0
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split indices into ``folds`` (train, test) pairs with each class spread evenly.

    Every index is in exactly one test set; per class, test-set sizes differ by at most one.
    The same ``seed`` gives the same folds.

    Raises:
        DesignValueError: fewer than 2 folds, or a class with fewer members than folds.
    """
    labels = np.asarray(labels)
    if int(folds) != folds or folds < 2:
        raise DesignValueError(f"folds must be an integer ≥ 2, got {folds!r}")
    rng = np.random.default_rng(seed)
    assignment = np.empty(labels.size, np.int64)
    offset = 0
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if members.size < folds:
            raise DesignValueError(
                f"class {int(cls)} has {members.size} recordings, fewer than the {folds} folds"
            )
        members = rng.permutation(members)
        # rotate the starting fold per class so fold sizes stay balanced overall
        assignment[members] = (np.arange(members.size) + offset) % folds
        offset += members.size
    out = []
    for k in range(folds):
        test = np.flatnonzero(assignment == k)
        train = np.flatnonzero(assignment != k)
        out.append((train, test))
    return out


def speaker_folds(speakers: Sequence[str], folds: int, *, seed: int = 0
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split indices into ``folds`` (train, test) pairs that never share a speaker.

    Speaker-independent evaluation: all recordings of a speaker land in the same test fold, so
    a test score measures generalization to new voices. Speakers are stratified by their
    group letter (``m``/``w``/…, the first character of the id) and dealt round-robin after a
    seeded shuffle; with one recording per vowel per speaker the classes stay balanced too.

    Raises:
        DesignValueError: fewer than 2 folds, or fewer speakers than folds.
    """
    if int(folds) != folds or folds < 2:
        raise DesignValueError(f"folds must be an integer ≥ 2, got {folds!r}")
    ids = np.asarray(speakers)
    unique = sorted(set(ids.tolist()))
    if len(unique) < folds:
        raise DesignValueError(f"{len(unique)} speakers cannot fill {folds} folds; use fewer "
                               f"folds or split by recordings")
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    offset = 0
    for group in sorted({s[0] for s in unique}):
        members = [unique[i] for i in rng.permutation(len(unique)) if unique[i][0] == group]
        for n, speaker in enumerate(members):
            fold_of[speaker] = (n + offset) % folds
        offset += len(members)
    assignment = np.array([fold_of[s] for s in ids.tolist()], np.int64)
    return [(np.flatnonzero(assignment != k), np.flatnonzero(assignment == k))
            for k in range(folds)]
