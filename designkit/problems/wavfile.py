"""The one door for WAV recordings: every header field is checked before a sample is read.

:func:`read_wav_header` walks the RIFF chunks itself, so that no audio library sizes an
allocation from a header nobody checked; :func:`read_wav_samples` then reads exactly the
samples the checked header describes. A recording must be:

* a regular, non-empty file that starts ``RIFF`` … ``WAVE`` (an MP3, FLAC, Ogg, AIFF, RF64 or
  big-endian RIFX file named ``.wav`` is named as such, with the command that converts it);
* at most :data:`MAX_CHUNKS` chunks, each with a printable four-letter id, one ``fmt `` chunk
  of at most :data:`MAX_FMT_BYTES` bytes before the ``data`` chunk;
* PCM with 8, 16, 24 or 32 bits per sample or IEEE float with 32 or 64 (plain or
  ``WAVE_FORMAT_EXTENSIBLE``), 1 to :data:`MAX_CHANNELS` channels, :data:`MIN_RATE` to
  :data:`MAX_RATE` frames per second, and a frame size that matches;
* a ``data`` chunk that lies inside the file, holds whole frames and at most
  :data:`MAX_SECONDS` of audio;
* finite samples (a float recording with NaN or infinity is damaged).

Anything else is a :class:`WavFormatError` naming the file, what is wrong and the fix.
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import DesignValueError, FileFormatError

__all__ = ["MAX_CHANNELS", "MAX_CHUNKS", "MAX_FMT_BYTES", "MAX_RATE", "MAX_SECONDS", "MIN_RATE",
           "WavFormatError", "WavHeader", "read_wav", "read_wav_header", "read_wav_samples"]

#: Longest recording read (s): a vowel token lasts well under a second, and this bounds the
#: samples one file can make the reader allocate (60 s at 384 kHz in float64 is 177 MiB).
MAX_SECONDS = 60.0
#: Sample rates accepted (Hz): telephone-band recordings to the fastest studio converters.
MIN_RATE, MAX_RATE = 1_000, 384_000
#: Channels a header may declare (7.1 surround); more is a damaged header, not a recording.
MAX_CHANNELS = 8
#: Chunks walked before the data chunk (a real file has a handful: fmt, fact, LIST, bext, …).
MAX_CHUNKS = 100
#: Bytes of a fmt chunk: 16 (PCM), 18 (float) or 40 (extensible); anything much larger is damage.
MAX_FMT_BYTES = 1_024

#: The command that makes any audio file a recording wavefab reads.
CONVERT = "convert it to mono PCM WAV, e.g. ffmpeg -i IN -ac 1 -c:a pcm_s16le OUT.wav"

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
#: The 14 bytes after the format tag in every standard KSDATAFORMAT_SUBTYPE GUID.
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
#: Compressed WAV encodings users meet, for the message (format tag → name).
_COMPRESSED = {0x0002: "Microsoft ADPCM", 0x0006: "A-law", 0x0007: "µ-law",
               0x0011: "IMA ADPCM", 0x0031: "GSM 6.10", 0x0050: "MPEG", 0x0055: "MP3"}
#: Other containers named .wav by mistake: leading bytes → what the file is.
_FOREIGN = ((b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"OggS", "an Ogg file"),
            (b"FORM", "an AIFF file"), (b"RIFX", "a big-endian RIFX file"),
            (b"RF64", "an RF64 file"), (b"BW64", "a BW64 file"), (b"caff", "a CAF file"),
            (b"#!AMR", "an AMR file"), (b"\x1aE\xdf\xa3", "a Matroska/WebM file"))


class WavFormatError(FileFormatError, DesignValueError):
    """A recording is not a WAV file wavefab reads: the message names it, the problem, the fix.

    Also a :class:`~wavefab.designkit.errors.DesignValueError`: the vowel loader raised that
    for unreadable recordings before this door existed, and its callers may still catch it.
    """


@dataclass(frozen=True)
class WavHeader:
    """What a checked WAV header says.

    Attributes:
        rate: frames per second (Hz).
        channels: samples per frame.
        bits: bits per sample as stored (8, 16, 24, 32 or 64).
        floating: IEEE float samples (else integer PCM).
        frames: frames in the data chunk.
        data_offset: byte offset of the first sample in the file.
    """

    rate: int
    channels: int
    bits: int
    floating: bool
    frames: int
    data_offset: int

    @property
    def seconds(self) -> float:
        """Duration (s)."""
        return self.frames / self.rate

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame."""
        return self.channels * self.bits // 8


def _fail(path: Path, problem: str) -> WavFormatError:
    return WavFormatError(path, problem)


def _opened(path: Path) -> int:
    """The file's size in bytes, after checking that it is a regular file one can open."""
    try:
        info = os.stat(path)  # follows links: a loop or a dangling link fails here
    except OSError as exc:
        raise _fail(path, f"cannot read the file ({exc.strerror or exc}); give the recording "
                    "itself") from None
    if stat.S_ISDIR(info.st_mode):
        raise _fail(path, "a folder, not a WAV file; rename it or move it out of the "
                    "recordings folder")
    if not stat.S_ISREG(info.st_mode):
        # a FIFO or device would block or stream forever: never open one
        raise _fail(path, "not a regular file (a pipe, socket or device); give a WAV file")
    return int(info.st_size)


def _foreign(path: Path, head: bytes) -> WavFormatError:
    for magic, what in _FOREIGN:
        if head.startswith(magic):
            return _fail(path, f"{what}, not a WAV file; {CONVERT}")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG frame sync
        return _fail(path, f"an MP3 file, not a WAV file; {CONVERT}")
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return _fail(path, f"an MP4/M4A file, not a WAV file; {CONVERT}")
    return _fail(path, f"not a WAV file: it starts with {head[:4]!r}, not b'RIFF'; {CONVERT}")


def read_wav_header(path: str | Path) -> WavHeader:
    """The checked header of the WAV file ``path`` (nothing but chunk headers is read).

    Raises:
        WavFormatError: naming the file, what is wrong with it and the fix.
    """
    path = Path(path)
    size = _opened(path)
    if size == 0:
        raise _fail(path, "the file is empty; record or export it again")
    try:
        with open(path, "rb") as fh:
            return _walk(path, fh, size)
    except OSError as exc:
        raise _fail(path, f"cannot read the file ({exc.strerror or exc})") from None


def _walk(path: Path, fh: BinaryIO, size: int) -> WavHeader:
    head = fh.read(12)
    if head[:4] != b"RIFF":
        raise _foreign(path, head)
    if len(head) < 12:
        raise _fail(path, f"cut off after {len(head)} bytes, inside the 12-byte RIFF header; "
                    "record or export it again")
    if head[8:12] != b"WAVE":
        raise _fail(path, f"a RIFF file of form {head[8:12]!r}, not a WAVE file; {CONVERT}")
    fmt: bytes | None = None
    pos = 12
    for _ in range(MAX_CHUNKS):
        fh.seek(pos)
        chunk = fh.read(8)
        if len(chunk) < 8:
            what = "no data chunk" if fmt is not None else "no fmt or data chunk"
            raise _fail(path, f"{what} before the file ends at byte {size:,}: truncated or "
                        "damaged; record or export it again")
        cid, n = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if not all(32 <= c < 127 for c in cid):
            raise _fail(path, f"a damaged chunk header at byte {pos:,} (id {cid!r}); record or "
                        "export it again")
        body = pos + 8
        if cid == b"fmt ":
            if fmt is not None:
                raise _fail(path, "two fmt chunks: a damaged header; export it again")
            if not 16 <= n <= MAX_FMT_BYTES:
                raise _fail(path, f"a fmt chunk of {n:,} bytes (16 to {MAX_FMT_BYTES:,} in a "
                            "WAV header): damaged; export it again")
            fmt = fh.read(n)
            if len(fmt) < n:
                raise _fail(path, f"the fmt chunk is cut off at byte {size:,}: truncated; "
                            "record or export it again")
        elif cid == b"data":
            if fmt is None:
                raise _fail(path, "the data chunk comes before any fmt chunk: not a WAV file "
                            f"wavefab reads; {CONVERT}")
            return _header(path, fmt, body, n, size)
        pos = body + n + (n & 1)  # chunks are padded to an even length
    raise _fail(path, f"more than {MAX_CHUNKS} chunks before the data chunk: damaged or not a "
                f"recording; {CONVERT}")


def _header(path: Path, fmt: bytes, offset: int, data_bytes: int, size: int) -> WavHeader:
    tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise _fail(path, f"an extensible fmt chunk of {len(fmt)} bytes (it needs 40): "
                        "damaged; export it again")
        valid, sub = struct.unpack("<H", fmt[18:20])[0], fmt[24:40]
        if sub[2:] != _GUID_TAIL:
            raise _fail(path, f"an extensible WAV of unknown sub-format {sub.hex()}; {CONVERT}")
        tag = struct.unpack("<H", sub[:2])[0]
        if not 0 < valid <= bits:
            raise _fail(path, f"{valid} valid bits in {bits}-bit samples: a damaged header; "
                        "export it again")
    if tag in _COMPRESSED:
        raise _fail(path, f"compressed audio ({_COMPRESSED[tag]}, format {tag}); {CONVERT}")
    if tag not in (_PCM, _FLOAT):
        raise _fail(path, f"audio format {tag} is neither PCM (1) nor float (3): damaged or "
                    f"compressed; {CONVERT}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise _fail(path, f"the header declares {channels:,} channels (a recording has 1 to "
                    f"{MAX_CHANNELS}): damaged; record or export it again")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise _fail(path, f"a sample rate of {rate:,} Hz (wavefab reads {MIN_RATE:,} to "
                    f"{MAX_RATE:,} Hz): damaged, or resample it, e.g. ffmpeg -i IN -ar 16000 "
                    "OUT.wav")
    floating = tag == _FLOAT
    allowed = (32, 64) if floating else (8, 16, 24, 32)
    if bits not in allowed:
        kind = "float" if floating else "PCM"
        raise _fail(path, f"{bits}-bit {kind} samples (wavefab reads "
                    f"{'/'.join(map(str, allowed))}-bit {kind}); {CONVERT}")
    frame = channels * bits // 8
    if block != frame:
        raise _fail(path, f"frames of {block:,} bytes where {channels} × {bits}-bit samples "
                    f"take {frame}: a damaged header; export it again")
    room = size - offset
    if data_bytes > room:
        raise _fail(path, f"the data chunk claims {data_bytes:,} bytes ({data_bytes // frame:,} "
                    f"frames) but the file holds {max(room, 0):,} after its header: truncated or "
                    "damaged; record or export it again")
    if data_bytes == 0:
        raise _fail(path, "holds no samples (an empty data chunk); record it again")
    if data_bytes % frame:
        raise _fail(path, f"a data chunk of {data_bytes:,} bytes is not a whole number of "
                    f"{frame}-byte frames: damaged; export it again")
    header = WavHeader(rate=rate, channels=channels, bits=bits, floating=floating,
                       frames=data_bytes // frame, data_offset=offset)
    if header.seconds > MAX_SECONDS:
        raise _fail(path, f"{header.seconds:,.1f} s long ({header.frames:,} frames at {rate:,} "
                    f"Hz); a recording is read up to {MAX_SECONDS:g} s: cut the vowel out, "
                    "e.g. sox IN OUT.wav trim START 1")
    return header


def read_wav_samples(path: str | Path, header: WavHeader) -> np.ndarray:
    """The samples of ``path`` as float64, shape ``(frames,)`` or ``(frames, channels)``.

    Integer PCM is scaled by its largest positive value (16-bit by 32767; 8-bit, which WAV
    stores unsigned, is centred on 128 first); float samples are kept as stored unless their
    peak exceeds 1, where they are divided by the peak so that squaring them cannot overflow.

    Raises:
        WavFormatError: the file changed since its header was read, or holds NaN or infinity.
    """
    path = Path(path)
    count = header.frames * header.frame_bytes
    try:
        with open(path, "rb") as fh:
            fh.seek(header.data_offset)
            raw = fh.read(count)
    except OSError as exc:
        raise _fail(path, f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) != count:
        raise _fail(path, f"holds {len(raw):,} bytes of samples where its header says "
                    f"{count:,}: truncated while read; try again")
    bits = header.bits
    if header.floating:
        with np.errstate(invalid="ignore"):  # a signalling NaN warns when cast: refused below
            x = np.frombuffer(raw, f"<f{bits // 8}").astype(np.float64)
        finite = np.isfinite(x)
        if not finite.all():
            first = int(np.argmin(finite)) // header.channels
            raise _fail(path, f"frame {first:,} holds NaN or infinity: a damaged float "
                        "recording; export it again")
        peak = float(np.max(np.abs(x)))
        if peak > 1.0:
            x /= peak
    elif bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif bits == 24:
        # left-justify each 3-byte sample in an int32, as 24-bit audio is usually widened
        wide = np.zeros((count // 3, 4), np.uint8)
        wide[:, 1:] = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        x = wide.view("<i4")[:, 0].astype(np.float64) / float(np.iinfo(np.int32).max)
    else:
        dtype = np.dtype(f"<i{bits // 8}")
        x = np.frombuffer(raw, dtype).astype(np.float64) / float(np.iinfo(dtype).max)
    return x if header.channels == 1 else x.reshape(header.frames, header.channels)


def read_wav(path: str | Path) -> tuple[int, np.ndarray]:
    """``(rate, samples)`` of the WAV file ``path``, after :func:`read_wav_header`'s checks.

    ``rate`` is in Hz; ``samples`` are as :func:`read_wav_samples` returns them.

    Raises:
        WavFormatError: naming the file, what is wrong with it and the fix.
    """
    header = read_wav_header(path)
    return header.rate, read_wav_samples(path, header)
