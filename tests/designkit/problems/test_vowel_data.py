"""Vowel data: the Hillenbrand-format loader, windows, stratified folds, synthetic vowels."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from wavefab.designkit.errors import DesignValueError
from wavefab.designkit.problems.synthetic_vowels import synthetic_vowels
from wavefab.designkit.problems.vowel_data import (
    centre_window,
    load_vowel_folder,
    stratified_folds,
)

HILLENBRAND = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "vowels"
needs_recordings = pytest.mark.skipif(
    not HILLENBRAND.is_dir(),
    reason=f"the Hillenbrand recordings are not at {HILLENBRAND}",
)


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16_000, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def _band_features(data) -> np.ndarray:
    """Log energy in 24 bands of each token's power spectrum (a crude vowel-quality feature)."""
    feats = []
    for x in data.waveforms:
        spectrum = np.abs(np.fft.rfft(x, n=4096)) ** 2
        bands = np.array_split(spectrum[: int(4096 * 4000 / data.rate)], 24)
        feats.append(np.log([b.sum() + 1e-9 for b in bands]))
    return np.asarray(feats)


def _nearest_centroid_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    correct = 0
    for train, test in stratified_folds(labels, 5, seed=0):
        mu, sd = features[train].mean(0), features[train].std(0) + 1e-9
        z = (features - mu) / sd
        centroids = np.stack([z[train][labels[train] == c].mean(0) for c in np.unique(labels)])
        guess = np.argmin(((z[test][:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
        correct += int((guess == labels[test]).sum())
    return correct / labels.size


@needs_recordings
def test_loads_the_reference_recordings():
    data = load_vowel_folder(HILLENBRAND, vowels=("ae", "ei", "iy"), rate=10_000)
    assert len(data) == 279 and data.rate == 10_000 and data.vowels == ("ae", "ei", "iy")
    assert np.bincount(data.labels).tolist() == [93, 93, 93]
    assert len(set(data.speakers)) == 93
    lengths = np.array([x.size for x in data.waveforms]) / data.rate
    assert 0.3 < lengths.min() and lengths.max() < 0.9  # 0.33–0.86 s recorded
    powers = [float(np.mean(x.astype(np.float64) ** 2)) for x in data.waveforms]
    assert np.allclose(powers, 1.0, rtol=1e-4)
    men = load_vowel_folder(HILLENBRAND, vowels=("iy",), genders=("m",), rate=8000)
    assert len(men) == 45 and all(s.startswith("m") for s in men.speakers)


@needs_recordings
def test_real_vowels_are_separable_by_their_spectra():
    data = load_vowel_folder(HILLENBRAND, vowels=("ae", "ei", "iy"))
    accuracy = _nearest_centroid_accuracy(_band_features(data), data.labels)
    print(f"nearest-centroid accuracy on the recordings: {accuracy:.3f}")
    assert accuracy > 0.7


def test_synthetic_vowels_are_deterministic_and_separable():
    a = synthetic_vowels(seed=3)
    b = synthetic_vowels(seed=3)
    c = synthetic_vowels(seed=4)
    assert len(a) == 279 and np.bincount(a.labels).tolist() == [93, 93, 93]
    assert all(np.array_equal(x, y) for x, y in zip(a.waveforms, b.waveforms, strict=True))
    assert not np.array_equal(a.waveforms[0], c.waveforms[0])
    accuracy = _nearest_centroid_accuracy(_band_features(a), a.labels)
    print(f"nearest-centroid accuracy on synthetic vowels: {accuracy:.3f}")
    assert accuracy > 0.85


def test_synthetic_formants_sit_where_the_table_says():
    # F1 of /iy/ (342 Hz, men) is far below F1 of /ae/ (588 Hz): compare the low-band centroid
    data = synthetic_vowels(vowels=("iy", "ae"), genders=("m",), speakers={"m": 12}, seed=0)
    freqs = np.fft.rfftfreq(8192, 1 / data.rate)
    low = (freqs > 200) & (freqs < 1000)

    def centroid(x):
        s = np.abs(np.fft.rfft(x, 8192)) ** 2
        return float((freqs[low] * s[low]).sum() / s[low].sum())

    iy = np.mean([centroid(x) for x, y in zip(data.waveforms, data.labels, strict=True) if y == 0])
    ae = np.mean([centroid(x) for x, y in zip(data.waveforms, data.labels, strict=True) if y == 1])
    assert iy < ae - 100


def test_loader_errors_name_the_problem(tmp_path):
    with pytest.raises(DesignValueError, match="does not exist or is not a folder"):
        load_vowel_folder(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DesignValueError, match="holds no recording"):
        load_vowel_folder(tmp_path)
    (tmp_path / "m01ae.wav").write_bytes(b"RIFF....garbage")
    with pytest.raises(DesignValueError, match=r"m01ae\.wav: a RIFF file of form"):
        load_vowel_folder(tmp_path)
    (tmp_path / "m01ae.wav").unlink()
    _write_wav(tmp_path / "m01ei.wav", np.zeros(200, np.int16).repeat(2), channels=2)
    with pytest.raises(DesignValueError, match=r"m01ei\.wav: 2 channels"):
        load_vowel_folder(tmp_path)
    (tmp_path / "m01ei.wav").unlink()
    _write_wav(tmp_path / "m01iy.wav", np.zeros(400, np.int16))
    with pytest.raises(DesignValueError, match=r"m01iy\.wav: a recording is silent"):
        load_vowel_folder(tmp_path)
    with pytest.raises(DesignValueError, match="vowels must be distinct values from"):
        load_vowel_folder(tmp_path, vowels=("xx",))


def test_loader_reads_and_resamples_a_small_folder(tmp_path):
    t = np.arange(1600) / 16_000
    for name, f in (("m01ae.wav", 300.0), ("w02iy.wav", 500.0), ("m03xx.wav", 1.0)):
        _write_wav(tmp_path / name, 8000 * np.sin(2 * np.pi * f * t))
    data = load_vowel_folder(tmp_path, vowels=("ae", "iy"), rate=10_000)
    assert data.speakers == ("m01", "w02") and data.labels.tolist() == [0, 1]
    assert data.waveforms[0].size == 1000 and data.waveforms[0].dtype == np.float32


def test_centre_window():
    x = np.arange(10.0)
    assert centre_window(x, 4).tolist() == [3, 4, 5, 6]
    assert centre_window(x, 14).tolist() == [0, 0, *range(10), 0, 0]
    with pytest.raises(DesignValueError):
        centre_window(x, 0)


def test_stratified_folds_partition_and_balance():
    labels = np.repeat([0, 1, 2], [31, 30, 32])
    folds = stratified_folds(labels, 5, seed=7)
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(labels.size))
    for train, test in folds:
        assert not set(train) & set(test) and train.size + test.size == labels.size
        for cls in range(3):
            per_fold = (labels[test] == cls).sum()
            assert abs(per_fold - (labels == cls).sum() / 5) <= 1
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    again = stratified_folds(labels, 5, seed=7)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = stratified_folds(labels, 5, seed=8)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(DesignValueError, match="fewer than the 5 folds"):
        stratified_folds(np.array([0, 0, 1, 1, 1, 1, 1]), 5)


def test_speaker_folds_never_share_a_voice():
    from wavefab.designkit.problems.vowel_data import speaker_folds

    data = synthetic_vowels(speakers={"m": 7, "w": 8}, seed=4)
    folds = speaker_folds(data.speakers, 5, seed=1)
    again = speaker_folds(data.speakers, 5, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(data)))  # each recording tested once
    speakers = np.asarray(data.speakers)
    for train, test in folds:
        assert not set(speakers[train]) & set(speakers[test])
        assert len(set(speakers[test])) == 3  # 15 speakers over 5 folds
        counts = np.bincount(data.labels[test], minlength=len(data.vowels))
        assert counts.min() == counts.max()  # one recording per vowel per speaker
        genders = {s[0] for s in speakers[test]}
        assert genders == {"m", "w"}
    other = speaker_folds(data.speakers, 5, seed=2)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(DesignValueError, match="15 speakers cannot fill 20 folds"):
        speaker_folds(data.speakers, 20)
