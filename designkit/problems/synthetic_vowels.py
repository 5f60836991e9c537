"""Built-in synthetic vowels: source-filter synthesis from published formant statistics.

Used when no recordings are given, so the vowel task runs on a fresh install. Each token is a
glottal pulse train (Rosenberg 1971 pulse shape, differentiated for lip radiation) with slight
jitter and a falling pitch, filtered by a cascade of four second-order formant resonators
(Klatt, J. Acoust. Soc. Am. 67, 971–995, 1980), with a smooth onset and offset and a little
aspiration noise. Mean F0 and F1–F3 per vowel and gender are the Hillenbrand et al. (1995)
averages (Table V); speakers differ by a vocal-tract length factor and a pitch factor, tokens by
a few percent of formant and pitch jitter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DesignValueError
from .vowel_data import GENDERS, VOWELS, VowelSet, _check_choice, normalize_power

#: (F0, F1, F2, F3) in Hz: Hillenbrand, Getty, Clark & Wheeler, JASA 97(5), 1995, Table V
#: (averages over 45 men and 48 women).
FORMANTS: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "m": {
        "ae": (138, 588, 1952, 2601), "ah": (135, 768, 1333, 2522), "aw": (129, 652, 997, 2538),
        "eh": (134, 580, 1799, 2605), "ei": (131, 476, 2089, 2691), "er": (133, 474, 1379, 1710),
        "ih": (135, 427, 2034, 2684), "iy": (138, 342, 2322, 3000), "oa": (129, 497, 910, 2459),
        "oo": (137, 469, 1122, 2434), "uh": (133, 623, 1200, 2550), "uw": (143, 378, 997, 2343),
    },
    "w": {
        "ae": (227, 669, 2349, 2972), "ah": (215, 936, 1551, 2815), "aw": (210, 781, 1136, 2824),
        "eh": (223, 731, 2058, 2979), "ei": (219, 536, 2530, 3047), "er": (217, 519, 1590, 1929),
        "ih": (224, 483, 2365, 3053), "iy": (227, 437, 2761, 3372), "oa": (217, 555, 1035, 2828),
        "oo": (230, 519, 1225, 2827), "uh": (218, 753, 1426, 2933), "uw": (235, 459, 1105, 2735),
    },
}
#: A fixed fourth formant per gender (Hz); it shapes the spectral tilt above F3.
F4 = {"m": 3500.0, "w": 4200.0}
#: Speakers per gender in the Hillenbrand recordings.
SPEAKERS = {"m": 45, "w": 48}


def _glottal_source(f0: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Differentiated Rosenberg pulse train for an F0 contour (Hz per sample)."""
    jitter = 1.0 + 0.01 * rng.standard_normal(f0.size)
    phase = np.cumsum(f0 * jitter / rate) % 1.0
    opening, closing = 0.4, 0.16
    pulse = np.where(
        phase < opening, 0.5 * (1 - np.cos(np.pi * phase / opening)),
        np.where(phase < opening + closing,
                 np.cos(0.5 * np.pi * (phase - opening) / closing), 0.0),
    )
    return np.diff(pulse, prepend=0.0)


def _resonator(x: np.ndarray, frequency: float, bandwidth: float, rate: int) -> np.ndarray:
    """Klatt's digital formant resonator (unit gain at DC)."""
    from scipy.signal import lfilter

    t = 1.0 / rate
    c = -np.exp(-2 * np.pi * bandwidth * t)
    b = 2 * np.exp(-np.pi * bandwidth * t) * np.cos(2 * np.pi * frequency * t)
    a = 1 - b - c
    return lfilter([a], [1, -b, -c], x)


def synthesize_vowel(
    vowel: str, gender: str, *, rate: int, duration: float, tract: float = 1.0,
    pitch: float = 1.0, rng: np.random.Generator,
) -> np.ndarray:
    """One synthetic token (float32, mean power 1).

    Args:
        vowel: vowel code (see :data:`VOWELS`).
        gender: ``"m"`` or ``"w"``.
        rate: sample rate (Hz); formants above 0.45·rate are dropped.
        duration: length (s).
        tract: vocal-tract factor; formants scale by ``1/tract``.
        pitch: F0 factor.
        rng: random generator (jitter and noise).
    """
    f0, f1, f2, f3 = FORMANTS[gender][vowel]
    n = max(round(duration * rate), 16)
    t = np.arange(n) / n
    contour = f0 * pitch * (1.05 - 0.1 * t) * (1 + 0.02 * rng.standard_normal())
    source = _glottal_source(contour, rate, rng)
    source += 0.003 * rng.standard_normal(n)  # aspiration
    out = source
    formants = np.array([f1, f2, f3, F4[gender]]) / tract
    formants *= 1 + 0.03 * rng.standard_normal(4)
    for k, frequency in enumerate(formants):
        if frequency >= 0.45 * rate:
            continue
        bandwidth = (60.0, 90.0, 150.0, 200.0)[k] * (1 + 0.1 * rng.standard_normal()) ** 2
        out = _resonator(out, frequency, bandwidth, rate)
    ramp = min(int(0.03 * rate), n // 4)
    if ramp > 0:
        envelope = np.ones(n)
        edge = 0.5 * (1 - np.cos(np.pi * np.arange(ramp) / ramp))
        envelope[:ramp] = edge
        envelope[n - ramp:] = edge[::-1]
        out = out * envelope
    return normalize_power(out.astype(np.float64))


def synthetic_vowels(
    *,
    vowels: Sequence[str] = ("ae", "ei", "iy"),
    genders: Sequence[str] = GENDERS,
    speakers: dict[str, int] | None = None,
    rate: int = 10_000,
    duration: tuple[float, float] = (0.25, 0.45),
    seed: int = 0,
) -> VowelSet:
    """A synthetic stand-in for the Hillenbrand recordings: one token per speaker and vowel.

    Args:
        vowels: vowel codes, in label order.
        genders: ``"m"`` and/or ``"w"``.
        speakers: speakers per gender (default 45 men, 48 women, as recorded).
        rate: sample rate (Hz).
        duration: range of token lengths (s), drawn uniformly.
        seed: the same seed gives the same set, sample for sample.

    Returns:
        A :class:`VowelSet` with speaker ids ``m01``…, ``w01``….
    """
    vowels = _check_choice("vowels", vowels, VOWELS)
    genders = _check_choice("genders", genders, GENDERS)
    counts = dict(SPEAKERS if speakers is None else speakers)
    if any(int(counts.get(g, 0)) < 1 for g in genders):
        raise DesignValueError(f"speakers must give at least 1 speaker per gender, got {counts}")
    low, high = duration
    if not 0 < low <= high:
        raise DesignValueError(f"duration must be a (min, max) range in seconds, got {duration}")
    rng = np.random.default_rng(seed)
    waves, labels, ids = [], [], []
    for gender in genders:
        for k in range(int(counts[gender])):
            tract = float(np.exp(0.06 * rng.standard_normal()))
            pitch = float(np.exp(0.10 * rng.standard_normal()))
            for label, vowel in enumerate(vowels):
                waves.append(synthesize_vowel(
                    vowel, gender, rate=int(rate), duration=float(rng.uniform(low, high)),
                    tract=tract, pitch=pitch, rng=rng,
                ))
                labels.append(label)
                ids.append(f"{gender}{k + 1:02d}")
    return VowelSet(tuple(waves), np.asarray(labels, np.int64), tuple(ids), vowels, int(rate))
