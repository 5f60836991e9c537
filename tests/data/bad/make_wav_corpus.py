"""Write tests/data/bad/wav/*.wav: recordings that are damaged, crafted or foreign.

Each file is a few hundred bytes: a 16 kHz mono 16-bit tone, or a header around one, with one
thing wrong. Run from the project root to regenerate (the files are committed; this says how
they were made):

    python tests/data/bad/make_wav_corpus.py

:func:`converted` makes the supported-but-different recordings (8/24/32-bit, float, other
rates), which must load rather than be refused; the tests write those at run time.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "wav"

#: The sub-format GUID tail shared by PCM and IEEE float in WAVE_FORMAT_EXTENSIBLE.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"


def tone(rate: int = 16_000, frames: int = 200, freq: float = 440.0) -> np.ndarray:
    """A sine of amplitude 0.5 (float64), ``frames`` samples at ``rate`` Hz."""
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(frames) / rate)


def pcm16(x: np.ndarray) -> bytes:
    """``x`` in [-1, 1] as little-endian 16-bit PCM."""
    return np.round(x * 32767).astype("<i2").tobytes()


def fmt_chunk(*, tag: int = 1, channels: int = 1, rate: int = 16_000, bits: int = 16,
              block: int | None = None, extra: bytes = b"") -> bytes:
    """A ``fmt `` chunk; ``block`` defaults to the frame size the fields imply."""
    block = channels * bits // 8 if block is None else block
    body = struct.pack("<HHIIHH", tag, channels, rate,
                       (rate * block) % 2**32, block, bits) + extra
    return b"fmt " + struct.pack("<I", len(body)) + body


def chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    """A RIFF chunk (padded to even length); ``size`` overrides the recorded size."""
    n = len(body) if size is None else size
    return cid + struct.pack("<I", n) + body + b"\0" * (len(body) & 1)


def riff(*chunks: bytes, form: bytes = b"WAVE") -> bytes:
    """A RIFF file of ``chunks``."""
    inner = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(inner)) + inner


def wav(samples: bytes, **fmt: int) -> bytes:
    """A complete WAV file of raw ``samples`` with the fmt fields ``fmt``."""
    return riff(fmt_chunk(**fmt), chunk(b"data", samples))


def extensible(samples: bytes, *, sub_tag: int, bits: int, valid: int | None = None,
               channels: int = 1, rate: int = 16_000, guid_tail: bytes = _GUID_TAIL) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE file whose sub-format is ``sub_tag`` (1 PCM, 3 float)."""
    extra = struct.pack("<HHI", 22, bits if valid is None else valid, 0)
    extra += struct.pack("<H", sub_tag) + guid_tail
    return riff(fmt_chunk(tag=0xFFFE, channels=channels, rate=rate, bits=bits, extra=extra),
                chunk(b"data", samples))


def good() -> bytes:
    """The tone as a valid 16 kHz mono 16-bit WAV (444 bytes)."""
    return wav(pcm16(tone()))


def _patched(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value):]


def _flipped(data: bytes, offset: int, mask: int) -> bytes:
    return _patched(data, offset, bytes([data[offset] ^ mask]))


def corpus() -> dict[str, bytes]:
    """File name → bytes."""
    ok = good()
    x = tone()
    nan = x.astype("<f4")
    nan[10] = np.nan
    inf = x.astype("<f8")
    inf[0] = np.inf
    rng = np.random.default_rng(18)
    noise = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    # header offsets of the 44-byte canonical header: 12 'fmt ', 16 its size, 20 format tag,
    # 22 channels, 24 rate, 32 block size, 34 bits, 36 'data', 40 its size, 44 samples
    return {
        "empty.wav": b"",
        "riff_only.wav": b"RIFF\x24\x00",
        "cut_in_fmt.wav": ok[:30],
        "truncated.wav": ok[:244],
        "billion_frames.wav": _patched(ok, 40, struct.pack("<I", 2_000_000_000)),
        "flipped_magic.wav": _flipped(ok, 3, 0x10),
        "flipped_form.wav": _flipped(ok, 11, 0x02),
        "flipped_fmt_id.wav": _flipped(ok, 12, 0x01),
        "garbage_chunk_id.wav": _flipped(ok, 15, 0x20),
        "flipped_fmt_size.wav": _flipped(ok, 19, 0x01),
        "flipped_tag.wav": _flipped(ok, 21, 0x01),
        "flipped_block.wav": _flipped(ok, 32, 0x01),
        "flipped_bits.wav": _flipped(ok, 34, 0x04),
        "flipped_data_size.wav": _flipped(ok, 42, 0x10),
        "huge_rate.wav": wav(pcm16(x), rate=4_000_000_000),
        "zero_rate.wav": wav(pcm16(x), rate=0),
        "awkward_rate.wav": wav(pcm16(x), rate=383_999),
        "zero_channels.wav": wav(pcm16(x), channels=0, block=2),
        "huge_channels.wav": wav(pcm16(x), channels=65_535, block=2),
        "stereo.wav": wav(pcm16(np.repeat(x[:100], 2)), channels=2),
        "float16.wav": wav(x.astype("<f2").tobytes(), tag=3, bits=16),
        "alaw.wav": wav(bytes(200), tag=6, bits=8),
        "mp3_in_wav.wav": wav(bytes(200), tag=0x55, bits=8),
        "extensible_short.wav": wav(pcm16(x), tag=0xFFFE),
        "extensible_unknown.wav": extensible(pcm16(x), sub_tag=1, bits=16,
                                             guid_tail=bytes(14)),
        "nan_float.wav": wav(nan.tobytes(), tag=3, bits=32),
        "inf_float.wav": wav(inf.tobytes(), tag=3, bits=64),
        "silent.wav": wav(bytes(400)),
        "silent_8bit.wav": wav(b"\x80" * 200, bits=8),
        "no_samples.wav": wav(b""),
        "no_data_chunk.wav": riff(fmt_chunk()),
        "data_before_fmt.wav": riff(chunk(b"data", pcm16(x)), fmt_chunk()),
        "two_fmt.wav": riff(fmt_chunk(), fmt_chunk(), chunk(b"data", pcm16(x))),
        "partial_frame.wav": riff(fmt_chunk(), chunk(b"data", pcm16(x) + b"\x01")),
        "many_chunks.wav": riff(*[chunk(b"junk", b"")] * 101, fmt_chunk(),
                                chunk(b"data", pcm16(x))),
        "riff_avi.wav": riff(chunk(b"avih", bytes(56)), form=b"AVI "),
        "mp3.wav": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(200),
        "mp3_no_tag.wav": b"\xff\xfb\x90\x64" + bytes(200),
        "mp4.wav": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(200),
        "flac.wav": b"fLaC\x00\x00\x00\x22" + bytes(200),
        "ogg.wav": b"OggS\x00\x02" + bytes(200),
        "aiff.wav": b"FORM\x00\x00\x00\xd0AIFF" + bytes(200),
        "rifx.wav": b"RIFX" + ok[4:],
        "random_bytes.wav": b"\x00\x17" + noise,
        "text.wav": b"this is not audio\n",
    }


def converted() -> dict[str, tuple[bytes, int]]:
    """Name → (bytes, rate in Hz) of recordings in other formats that must load correctly.

    Each holds the same 440 Hz tone for 0.05 s (the 16 kHz ones 800 frames).
    """
    out: dict[str, tuple[bytes, int]] = {}
    x = tone(frames=800)
    out["pcm8.wav"] = (wav(np.round(x * 127 + 128).astype(np.uint8).tobytes(), bits=8), 16_000)
    i24 = np.round(x * (2**23 - 1)).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
    out["pcm24.wav"] = (wav(i24.tobytes(), bits=24), 16_000)
    out["pcm32.wav"] = (wav(np.round(x * (2**31 - 1)).astype("<i4").tobytes(), bits=32), 16_000)
    out["float32.wav"] = (wav(x.astype("<f4").tobytes(), tag=3, bits=32), 16_000)
    out["float64.wav"] = (wav(x.astype("<f8").tobytes(), tag=3, bits=64), 16_000)
    out["loud_float.wav"] = (wav((x * 1e30).astype("<f8").tobytes(), tag=3, bits=64), 16_000)
    out["extensible24.wav"] = (extensible(i24.tobytes(), sub_tag=1, bits=24), 16_000)
    out["extensible_float.wav"] = (extensible(x.astype("<f4").tobytes(), sub_tag=3, bits=32),
                                   16_000)
    with_list = riff(chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00test\x00"), fmt_chunk(),
                     chunk(b"data", pcm16(x)))
    out["with_list_chunk.wav"] = (with_list, 16_000)
    for rate in (8_000, 11_025, 22_050, 44_100, 48_000, 96_000):
        out[f"rate{rate}.wav"] = (wav(pcm16(tone(rate, rate // 20)), rate=rate), rate)
    return out


def long_recording(seconds: float = 61.0) -> bytes:
    """An 8-bit 1 kHz recording ``seconds`` long (61 KB for 61 s): past the 60 s bound."""
    frames = int(seconds * 1000)
    return wav(np.round(tone(1000, frames, 110.0) * 127 + 128).astype(np.uint8).tobytes(),
               rate=1000, bits=8)


if __name__ == "__main__":
    from corpus_files import write_corpus  # the script's own folder is on sys.path

    write_corpus(OUT, corpus())
