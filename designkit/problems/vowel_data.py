"""Spoken-vowel datasets: Hillenbrand-format WAV folders, windows and stratified folds.

A folder holds files named ``[m|w]NN<vowel>.wav`` (gender, two-digit speaker number, vowel code),
as in Hillenbrand, Getty, Clark & Wheeler, "Acoustic characteristics of American English vowels",
J. Acoust. Soc. Am. 97(5), 3099–3111 (1995). Other children of the folder are ignored (the
error for a folder without a match names the near misses, e.g. ``M01AE.WAV``); a matching entry
that is not a mono WAV recording wavefab reads (see :mod:`.wavfile`) is an error naming it, never
skipped. Bounds: :data:`MAX_ENTRIES` folder entries, :data:`~.wavfile.MAX_SECONDS` per
recording, :data:`MAX_TOTAL_SAMPLES` in all, and resampling ratios whose terms stay under
:data:`MAX_RESAMPLE_TERM`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np

from ..errors import DesignValueError
from .wavfile import MAX_RATE, MIN_RATE, WavFormatError, read_wav_header, read_wav_samples

#: The twelve vowel codes of the Hillenbrand recordings (had, hod, hawed, head, hayed, heard,
#: hid, heed, hoed, hood, hud, who'd).
VOWELS: tuple[str, ...] = ("ae", "ah", "aw", "eh", "ei", "er", "ih", "iy", "oa", "oo", "uh", "uw")
GENDERS: tuple[str, ...] = ("m", "w")

# ASCII only and matched whole: "\d" would take other scripts' digits, "$" a trailing newline
_NAME = re.compile(r"(?P<gender>[mw])(?P<speaker>\d{2})(?P<vowel>[a-z]{2})\.wav", re.ASCII)

#: Entries of a recordings folder looked at (the names can match at most 2 × 100 × 12 = 2,400
#: files): a bigger folder is the wrong one, refused at once instead of scanned at length.
MAX_ENTRIES = 100_000
#: Samples of all recordings together at the output rate (400 MB of float32; the Hillenbrand
#: set is 6.1 M at 10 kHz).
MAX_TOTAL_SAMPLES = 100_000_000
#: Largest term of a reduced resampling ratio: the polyphase filter has 20 × this taps, so
#: this bounds its design to about 0.5 s (every common rate pair is below 1,000).
MAX_RESAMPLE_TERM = 100_000


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
    up, down = rate_out // g, rate_in // g
    return resample_poly(x.astype(np.float64), up, down,
                         window=_lowpass(up, down)).astype(np.float32)


@lru_cache(maxsize=4)
def _lowpass(up: int, down: int) -> np.ndarray:
    """resample_poly's own default filter, designed once per ratio instead of once per file."""
    from scipy.signal import firwin

    # the same design as scipy.signal.resample_poly(window=("kaiser", 5.0)), so the samples
    # are bit-identical to an uncached call (and to runs recorded before the cache)
    half = 10 * max(up, down)
    taps = firwin(2 * half + 1, 1.0 / max(up, down), window=("kaiser", 5.0))
    taps.flags.writeable = False
    return taps


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
        DesignValueError: the folder is missing, unreadable, too big or holds no matching file,
            a chosen vowel has no recording, or a choice is invalid.
        WavFormatError: a matching entry is not a mono WAV recording wavefab reads (also a
            :class:`~wavefab.designkit.errors.FileFormatError` and a :class:`DesignValueError`;
            the message names it).
    """
    vowels = _check_choice("vowels", vowels, VOWELS)
    genders = _check_choice("genders", genders, GENDERS)
    if not _whole(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise DesignValueError(f"rate must be an integer from {MIN_RATE:,} to {MAX_RATE:,} Hz, "
                               f"got {rate!r}")
    rate = int(rate)
    path = Path(folder)
    if not path.is_dir():
        raise DesignValueError(
            f"vowel data folder {str(path)!r} does not exist or is not a folder; give a folder "
            f"of [m|w]NN<vowel>.wav files, or none to use the built-in synthetic vowels"
        )
    entries = _matching(path, vowels, genders)
    entries.sort(key=lambda e: (e[0], e[1]))
    waves, labels, speakers = [], [], []
    total = 0
    for speaker, label, file in entries:
        header = read_wav_header(file)
        if header.channels != 1:
            raise WavFormatError(file, f"{header.channels} channels; wavefab reads mono "
                                 "recordings: mix it down, e.g. ffmpeg -i IN -ac 1 OUT.wav")
        g = gcd(header.rate, rate)
        up, down = rate // g, header.rate // g
        if max(up, down) > MAX_RESAMPLE_TERM:
            raise WavFormatError(file, f"{header.rate:,} Hz does not resample to {rate:,} Hz "
                                 f"in reasonable time (ratio {up:,}/{down:,}); resample it to "
                                 "16,000 Hz first, e.g. ffmpeg -i IN -ar 16000 OUT.wav")
        total += -(-header.frames * up // down)  # the resampled length, rounded up
        if total > MAX_TOTAL_SAMPLES:
            raise DesignValueError(
                f"{str(path)!r}: the recordings up to {file.name} add up to more than "
                f"{MAX_TOTAL_SAMPLES:,} samples at {rate:,} Hz; give a folder of vowel tokens "
                "(each under a second), fewer vowels, or a lower data.rate"
            )
        data = read_wav_samples(file, header)
        try:
            waves.append(normalize_power(resample(data, header.rate, rate)))
        except DesignValueError as exc:
            raise WavFormatError(file, f"{exc}; remove it or record it again") from None
        labels.append(label)
        speakers.append(speaker)
    missing = [v for k, v in enumerate(vowels) if k not in set(labels)]
    if missing:
        found = [v for v in vowels if v not in missing]
        raise DesignValueError(
            f"{str(path)!r} holds recordings of {', '.join(found)} only: no {', '.join(missing)} "
            f"(by genders {list(genders)}); every chosen vowel is a class and needs recordings: "
            "add them, or leave them out of data.vowels"
        )
    return VowelSet(tuple(waves), np.asarray(labels, np.int64), tuple(speakers), vowels, rate)


def _whole(value: object) -> bool:
    """Whether ``value`` is a whole number (not a bool, not NaN, not text)."""
    try:
        return not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError, OverflowError):
        return False


def _matching(folder: Path, vowels: tuple[str, ...], genders: tuple[str, ...]
              ) -> list[tuple[str, int, Path]]:
    """(speaker, label, file) of each entry named like a chosen recording, in no order."""
    found: list[tuple[str, int, Path]] = []
    others: list[str] = []  # .wav names that do not match, for the message
    seen = 0
    try:
        with os.scandir(folder) as it:
            for entry in it:
                seen += 1
                if seen > MAX_ENTRIES:
                    raise DesignValueError(
                        f"{str(folder)!r} holds more than {MAX_ENTRIES:,} entries; a folder of "
                        "recordings holds at most 2,400 named like m01ae.wav: give that folder"
                    )
                match = _NAME.fullmatch(entry.name)
                if match is None:
                    if ".wav" in entry.name.lower():  # m01ae.WAV, m1ae.wav, m01ae.wav.bak
                        others.append(entry.name)
                    continue
                if match["vowel"] in vowels and match["gender"] in genders:
                    found.append((match["gender"] + match["speaker"],
                                  vowels.index(match["vowel"]), folder / entry.name))
    except OSError as exc:
        raise DesignValueError(f"{str(folder)!r} cannot be read as a folder "
                               f"({exc.strerror or exc})") from None
    if not found:
        hint = (f"; it has {len(others):,} other .wav names, e.g. {min(others)!r} (a name is m "
                "or w, two digits and a vowel code, in lower case)" if others else "")
        raise DesignValueError(
            f"{str(folder)!r} holds no recording of vowels {list(vowels)} by genders "
            f"{list(genders)} named like m01ae.wav{hint}"
        )
    return found


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
