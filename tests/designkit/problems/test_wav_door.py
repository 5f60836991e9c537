"""The one door for recordings: a damaged, crafted or foreign ``.wav`` in a vowel folder is one
clear error naming the file, from the loader and from ``wavefab run``; never a traceback, a
skipped file, a hang or a huge allocation. Recordings in other supported formats (8/24/32-bit,
float, other rates, extensible headers) load as the same tone.

``tests/data/bad/wav/`` is made by ``tests/data/bad/make_wav_corpus.py``.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavefab.app.cli import main
from wavefab.designkit.errors import DesignError, DesignValueError, FileFormatError
from wavefab.designkit.problems import vowel_data
from wavefab.designkit.problems.vowel_data import (
    VOWELS,
    load_vowel_folder,
    normalize_power,
    resample,
)

pytestmark = pytest.mark.filterwarnings("ignore::wavefab.solver.errors.ResolutionWarning")

BAD = Path(__file__).resolve().parents[2] / "data" / "bad" / "wav"
HILLENBRAND = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "vowels"

#: what the refusal of each corpus file must say (a fragment of its one line)
SAYS = {
    "aiff.wav": "an AIFF file, not a WAV file; convert it to mono PCM WAV, e.g. ffmpeg",
    "alaw.wav": "compressed audio (A-law, format 6); convert it",
    "awkward_rate.wav": "383,999 Hz does not resample to 10,000 Hz in reasonable time",
    "billion_frames.wav": "claims 2,000,000,000 bytes (1,000,000,000 frames) but the file "
                          "holds 400",
    "cut_in_fmt.wav": "the fmt chunk is cut off at byte 30: truncated",
    "data_before_fmt.wav": "the data chunk comes before any fmt chunk",
    "empty.wav": "the file is empty; record or export it again",
    "extensible_short.wav": "an extensible fmt chunk of 16 bytes (it needs 40)",
    "extensible_unknown.wav": "an extensible WAV of unknown sub-format",
    "flac.wav": "a FLAC file, not a WAV file",
    "flipped_bits.wav": "20-bit PCM samples (wavefab reads 8/16/24/32-bit PCM)",
    "flipped_block.wav": "frames of 3 bytes where 1 × 16-bit samples take 2",
    "flipped_data_size.wav": "claims 1,048,976 bytes (524,488 frames) but the file holds 400",
    "flipped_fmt_id.wav": "the data chunk comes before any fmt chunk",
    "flipped_fmt_size.wav": "a fmt chunk of 16,777,232 bytes (16 to 1,024",
    "flipped_form.wav": "a RIFF file of form b'WAVG', not a WAVE file",
    "flipped_magic.wav": "not a WAV file: it starts with b'RIFV', not b'RIFF'",
    "flipped_tag.wav": "audio format 257 is neither PCM (1) nor float (3)",
    "float16.wav": "16-bit float samples (wavefab reads 32/64-bit float)",
    "garbage_chunk_id.wav": "a damaged chunk header at byte 12",
    "huge_channels.wav": "declares 65,535 channels (a recording has 1 to 8)",
    "huge_rate.wav": "a sample rate of 4,000,000,000 Hz (wavefab reads 1,000 to 384,000 Hz)",
    "inf_float.wav": "frame 0 holds NaN or infinity",
    "many_chunks.wav": "more than 100 chunks before the data chunk",
    "mp3.wav": "an MP3 file, not a WAV file",
    "mp3_in_wav.wav": "compressed audio (MP3, format 85)",
    "mp3_no_tag.wav": "an MP3 file, not a WAV file",
    "mp4.wav": "an MP4/M4A file, not a WAV file",
    "nan_float.wav": "frame 10 holds NaN or infinity",
    "no_data_chunk.wav": "no data chunk before the file ends at byte 36",
    "no_samples.wav": "holds no samples (an empty data chunk)",
    "ogg.wav": "an Ogg file, not a WAV file",
    "partial_frame.wav": "a data chunk of 401 bytes is not a whole number of 2-byte frames",
    "random_bytes.wav": "not a WAV file: it starts with b'\\x00\\x17",
    "riff_avi.wav": "a RIFF file of form b'AVI ', not a WAVE file",
    "riff_only.wav": "cut off after 6 bytes, inside the 12-byte RIFF header",
    "rifx.wav": "a big-endian RIFX file, not a WAV file",
    "silent.wav": "a recording is silent (all zeros)",
    "silent_8bit.wav": "a recording is silent (all zeros)",
    "stereo.wav": "2 channels; wavefab reads mono recordings: mix it down, e.g. ffmpeg -i IN "
                  "-ac 1 OUT.wav",
    "text.wav": "not a WAV file: it starts with b'this'",
    "truncated.wav": "the data chunk claims 400 bytes (200 frames) but the file holds 200",
    "two_fmt.wav": "two fmt chunks",
    "zero_channels.wav": "declares 0 channels",
    "zero_rate.wav": "a sample rate of 0 Hz",
}

#: the good recordings every test folder starts with: two speakers × the three default vowels
GOOD = ("m01ae.wav", "m01ei.wav", "m01iy.wav", "w02ae.wav", "w02ei.wav", "w02iy.wav")
#: the name under which the file on trial joins them
TRIAL = "m03ae.wav"

TINY = """\
schema_version: 1
data: {vowels: [ae, ei, iy], rate: 10000}
geometry: {shape: [50, 60], absorber: 8, source_inset: 5, probe_inset: 5, probe_spacing: 7,
           region_gap: 3}
training: {epochs: 1, batch_size: 9, learning_rate: 0.01, window: 200, folds: 2}
"""


def _load_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_wav_corpus",
                                                  BAD.parent / "make_wav_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _load_maker()


def _good_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in GOOD:
        (folder / name).write_bytes(MAKER.good())
    return folder


def _with_trial(tmp_path: Path, data: bytes) -> Path:
    folder = _good_folder(tmp_path / "recordings")
    (folder / TRIAL).write_bytes(data)
    return folder


def _refusal(folder: Path, **options: object) -> DesignError:
    with pytest.raises(DesignError) as caught:
        load_vowel_folder(folder, **options)
    message = str(caught.value)
    assert message and "\n" not in message, message
    return caught.value


def _run(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """``wavefab run`` of the tiny vowel config on ``folder``: asserts exit 2 and one line."""
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "results"
    capsys.readouterr()
    assert main(["run", str(config), "--out", str(out), "--data", str(folder)]) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.startswith("wavefab run: error:") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert "epoch" not in captured.out + err and not (out / "metrics.json").exists()
    return err


# ---------------------------------------------------------------- the corpus of bad files


def test_the_corpus_is_the_table():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(SAYS)


def test_the_corpus_script_makes_exactly_the_committed_files():
    made = MAKER.corpus()
    assert sorted(made) == sorted(SAYS)
    for name, data in made.items():
        assert (BAD / name).read_bytes() == data, f"{name}: run make_wav_corpus.py again"
        assert len(data) <= 4096, name  # tiny on purpose


@pytest.mark.parametrize("name", sorted(SAYS))
def test_each_bad_recording_is_refused_by_name(name: str, tmp_path):
    folder = _with_trial(tmp_path, (BAD / name).read_bytes())
    error = _refusal(folder)
    assert isinstance(error, FileFormatError) and isinstance(error, DesignValueError)
    assert error.path == str(folder / TRIAL)
    assert str(error).startswith(f"{folder / TRIAL}: ") and SAYS[name] in str(error), error


@pytest.mark.parametrize("name", sorted(SAYS))
def test_run_refuses_each_with_one_line_and_exit_2(name: str, tmp_path, capsys):
    err = _run(_with_trial(tmp_path, (BAD / name).read_bytes()), tmp_path, capsys)
    assert TRIAL in err and SAYS[name] in err, err


def test_the_good_folder_loads(tmp_path):
    data = load_vowel_folder(_good_folder(tmp_path / "good"))
    assert len(data) == 6 and data.speakers == ("m01",) * 3 + ("w02",) * 3
    assert data.labels.tolist() == [0, 1, 2, 0, 1, 2]


# ---------------------------------------------------- supported formats are converted, not lost


def _expected_tone(rate: int, seconds: float = 0.05) -> np.ndarray:
    return normalize_power(np.sin(2 * np.pi * 440.0 * np.arange(round(rate * seconds)) / rate))


@pytest.mark.parametrize("name", sorted(MAKER.converted()))
def test_other_formats_load_as_the_same_tone(name: str, tmp_path):
    data_bytes, _ = MAKER.converted()[name]
    folder = _with_trial(tmp_path, data_bytes)
    data = load_vowel_folder(folder, rate=10_000)
    x = data.waveforms[data.speakers.index("m03")]
    expected = _expected_tone(10_000)
    assert x.dtype == np.float32 and x.size == expected.size
    inner = slice(60, -60)  # the resampling filter's edges see the zeros around the tone
    assert np.max(np.abs(x[inner] - expected[inner])) < 0.05, name


def test_the_resampling_filter_cache_is_bit_identical_to_scipy():
    from scipy.signal import resample_poly

    x = np.random.default_rng(1).standard_normal(3000)
    for rate_in, rate_out in ((16_000, 10_000), (44_100, 10_000), (8_000, 10_000)):
        for _ in range(2):  # designed, then from the cache
            ours = resample(x, rate_in, rate_out)
            g = np.gcd(rate_in, rate_out)
            theirs = resample_poly(x, rate_out // g, rate_in // g).astype(np.float32)
            assert np.array_equal(ours, theirs)


# ------------------------------------------------- entries that are not files, and odd folders


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


def _dangling(path: Path) -> None:
    path.symlink_to("nowhere.wav")


#: entry maker → what its refusal says
ENTRIES = {
    "folder": (Path.mkdir, "a folder, not a WAV file; rename it or move it out"),
    "symlink_loop": (_loop, "cannot read the file (Too many levels of symbolic links)"),
    "dangling_symlink": (_dangling, "cannot read the file (No such file or directory)"),
    "fifo": (lambda p: os.mkfifo(p), "not a regular file (a pipe, socket or device)"),
    "long_recording": (lambda p: p.write_bytes(MAKER.long_recording()),
                       "61.0 s long (61,000 frames at 1,000 Hz); a recording is read up to 60 s"),
}


@pytest.mark.parametrize("kind", sorted(ENTRIES))
def test_an_entry_that_is_no_recording_is_named(kind: str, tmp_path, capsys):
    make, says = ENTRIES[kind]
    folder = _good_folder(tmp_path / "recordings")
    make(folder / TRIAL)
    error = _refusal(folder)
    assert isinstance(error, FileFormatError) and says in str(error), error
    assert str(error).startswith(f"{folder / TRIAL}: ")
    err = _run(folder, tmp_path, capsys)
    assert says in err and TRIAL in err


def test_a_folder_without_a_match_names_the_near_misses(tmp_path, capsys):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("M01AE.WAV", "m1ae.wav", "notes.txt", "m01ae.wav\n", "m\u0661\u0662ae.wav"):
        (folder / name).write_bytes(MAKER.good())
    error = _refusal(folder)
    assert isinstance(error, DesignValueError)
    assert "holds no recording of vowels ['ae', 'ei', 'iy']" in str(error)
    assert "it has 4 other .wav names, e.g. 'M01AE.WAV'" in str(error), error
    assert "holds no recording" in _run(folder, tmp_path, capsys)
    (folder / "notes.txt").unlink()
    for name in ("M01AE.WAV", "m1ae.wav", "m01ae.wav\n", "m\u0661\u0662ae.wav"):
        (folder / name).unlink()
    assert str(_refusal(folder)).endswith("named like m01ae.wav")  # nothing to hint at


def test_a_folder_of_one_class_is_refused(tmp_path, capsys):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("m01ae.wav", "w02ae.wav"):
        (folder / name).write_bytes(MAKER.good())
    error = _refusal(folder)
    assert "holds recordings of ae only: no ei, iy" in str(error)
    assert "leave them out of data.vowels" in str(error)
    assert len(load_vowel_folder(folder, vowels=("ae",))) == 2  # one class, chosen on purpose
    assert "no ei, iy" in _run(folder, tmp_path, capsys)


def test_non_utf8_names_are_not_recordings(tmp_path):
    folder = _good_folder(tmp_path / "recordings")
    raw = os.fsencode(folder)
    for name in (b"m03ae\xff.wav", b"\xe9t\xe9.wav", b"m0\xff1ae.wav"):
        try:
            with open(raw + b"/" + name, "wb") as fh:
                fh.write(b"garbage")
        except OSError:
            pytest.skip("this file system takes UTF-8 names only")
    assert len(load_vowel_folder(folder)) == 6
    for name in GOOD:
        (folder / name).unlink()
    error = _refusal(folder)
    assert "holds no recording" in str(error) and "\\udcff" in str(error)  # shown, not crashed


def test_a_huge_folder_is_refused_at_once(tmp_path, monkeypatch):
    folder = _good_folder(tmp_path / "recordings")
    for k in range(60):
        (folder / f"other{k}.txt").touch()
    assert len(load_vowel_folder(folder)) == 6
    monkeypatch.setattr(vowel_data, "MAX_ENTRIES", 50)
    assert "holds more than 50 entries" in str(_refusal(folder))


def test_an_unreadable_folder_is_named(tmp_path, monkeypatch):
    folder = _good_folder(tmp_path / "recordings")

    def denied(path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(vowel_data.os, "scandir", denied)
    error = _refusal(folder)
    assert isinstance(error, DesignValueError)
    assert "cannot be read as a folder (Permission denied)" in str(error)


def test_thousands_of_other_files_are_passed_over(tmp_path):
    folder = _good_folder(tmp_path / "recordings")
    for k in range(3000):  # more than the 2,400 names that can match
        (folder / f"x{k:04d}.wav").touch()
    assert len(load_vowel_folder(folder)) == 6


def test_the_total_length_is_bounded(tmp_path, monkeypatch):
    folder = _good_folder(tmp_path / "recordings")
    monkeypatch.setattr(vowel_data, "MAX_TOTAL_SAMPLES", 300)  # each tone is 125 at 10 kHz
    error = _refusal(folder)
    assert "the recordings up to m01iy.wav add up to more than 300 samples" in str(error), error


@pytest.mark.parametrize("rate", [10**9, 999, 10_000.5, float("nan"), "fast", True])
def test_the_output_rate_is_bounded(rate: object, tmp_path):
    folder = _good_folder(tmp_path / "recordings")
    error = _refusal(folder, rate=rate)
    assert isinstance(error, DesignValueError)
    assert "rate must be an integer from 1,000 to 384,000 Hz" in str(error)


# ----------------------------------------------------------------------------- the real set


@pytest.mark.skipif(not HILLENBRAND.is_dir(), reason=f"no recordings at {HILLENBRAND}")
def test_the_hillenbrand_folder_loads_as_scipy_read_it():
    """Every one of the 1116 recordings is bit-identical to the reader this door replaced."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    data = load_vowel_folder(HILLENBRAND, vowels=VOWELS, rate=10_000)
    assert len(data) == 1116 and np.bincount(data.labels).tolist() == [93] * 12
    for x, speaker, label in zip(data.waveforms, data.speakers, data.labels, strict=True):
        rate, raw = wavfile.read(HILLENBRAND / f"{speaker}{VOWELS[label]}.wav")
        before = resample_poly(raw.astype(np.float64) / 32767.0, 5, 8).astype(np.float32)
        assert rate == 16_000 and np.array_equal(x, normalize_power(before)), speaker


# ------------------------------------------------------------------------------ mutations

_BASES = {
    "pcm16": MAKER.good(),
    "float32": MAKER.wav(MAKER.tone().astype("<f4").tobytes(), tag=3, bits=32),
    "extensible24": MAKER.converted()["extensible24.wav"][0],
}

_BYTE_FLIPS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)),
                       min_size=1, max_size=6)
_MUTATIONS = st.tuples(
    st.sampled_from(sorted(_BASES)),
    st.one_of(
        st.tuples(st.just("truncate"), st.integers(0, 2000)),
        st.tuples(st.just("flip_header"), st.lists(
            st.tuples(st.integers(0, 80), st.integers(1, 255)), min_size=1, max_size=4)),
        st.tuples(st.just("flip_anywhere"), _BYTE_FLIPS),
        st.tuples(st.just("set_field"), st.integers(0, 76), st.integers(0, 2**32 - 1)),
    ),
)


def _mutated(base: str, mutation: tuple) -> bytes:
    data = bytearray(_BASES[base])
    kind, *args = mutation
    if kind == "truncate":
        return bytes(data[: args[0] % (len(data) + 1)])
    if kind == "set_field":
        offset, value = args
        data[offset:offset + 4] = value.to_bytes(4, "little")
        return bytes(data)
    for offset, mask in args[0]:
        data[offset % len(data)] ^= mask
    return bytes(data)


def _outcome(folder: Path, data: bytes) -> str:
    """Load ``folder`` with ``data`` as its trial file: only a clean DesignError may escape."""
    (folder / TRIAL).write_bytes(data)
    try:
        loaded = load_vowel_folder(folder)
    except DesignError as exc:
        message = str(exc)
        assert message and "\n" not in message, repr(message)
        if isinstance(exc, FileFormatError):
            assert TRIAL in message, message
        return type(exc).__name__
    for x in loaded.waveforms:
        assert np.isfinite(x).all() and abs(float(np.mean(x.astype(np.float64) ** 2)) - 1) < 1e-3
    return "loaded"


@pytest.fixture(scope="module")
def trial_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _good_folder(tmp_path_factory.mktemp("mutations"))


def _campaign(folder: Path, examples: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_MUTATIONS)
    def one(mutation: tuple) -> None:
        outcomes[_outcome(folder, _mutated(*mutation))] += 1

    one()
    return outcomes


def test_mutated_recordings_raise_only_clean_errors(trial_folder):
    outcomes = _campaign(trial_folder, 50)
    assert outcomes["WavFormatError"] > 0
    print(dict(outcomes))


@pytest.mark.slow
@pytest.mark.fuzz
def test_fuzz_mutated_recordings_at_length(trial_folder):
    outcomes = _campaign(trial_folder, 5000)
    print(dict(outcomes))
    assert set(outcomes) <= {"loaded", "WavFormatError", "DesignValueError"}
