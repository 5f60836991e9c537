"""Write tests/data/bad/layout/*: GDSII and OASIS files that crashed, hung or could crash a reader.

Run from the project root to regenerate (the files are committed; this says how they were made):

    python tests/data/bad/make_layout_corpus.py

The GDSII files the fuzzing campaign found are written record by record with :mod:`struct`
(gdstk refuses to write most of them); the OASIS ones start from files gdstk writes.
"""

from __future__ import annotations

import random
import struct
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "layout"

# GDSII record types and data types (the two bytes after a record's length).
HEADER, BGNLIB, LIBNAME, UNITS, ENDLIB, BGNSTR, STRNAME, ENDSTR = range(8)
BOUNDARY, PATH, SREF, AREF, TEXT, LAYER, DATATYPE, WIDTH, XY, ENDEL, SNAME, COLROW = range(8, 20)
PROPATTR, PROPVALUE = 0x2B, 0x2C
NODATA, INT16, INT32, REAL8, ASCII = 0, 2, 3, 5, 6


def record(rtype: int, dtype: int, payload: bytes = b"") -> bytes:
    """One GDSII record: 2-byte length (header included), type, data type, payload."""
    return struct.pack(">HBB", 4 + len(payload), rtype, dtype) + payload


def int16(*values: int) -> bytes:
    return struct.pack(f">{len(values)}h", *values)


def int32(*values: int) -> bytes:
    return struct.pack(f">{len(values)}i", *values)


def text(value: str) -> bytes:
    raw = value.encode()
    return raw + b"\0" * (len(raw) % 2)


def real8(value: float) -> bytes:
    """A GDSII 8-byte real: sign, excess-64 base-16 exponent, 56-bit mantissa."""
    if value == 0:
        return bytes(8)
    sign = 0x80 if value < 0 else 0
    value = abs(value)
    exponent = 64
    while value >= 1:
        value /= 16
        exponent += 1
    while value < 1 / 16:
        value *= 16
        exponent -= 1
    return bytes([sign | exponent]) + round(value * 2**56).to_bytes(7, "big")


def boundary(points: list[tuple[int, int]], layer: int = 1,
             properties: dict[int, str] | None = None) -> bytes:
    body = record(BOUNDARY, NODATA) + record(LAYER, INT16, int16(layer))
    body += record(DATATYPE, INT16, int16(0))
    body += record(XY, INT32, int32(*[v for p in points for v in p]))
    for attr, value in (properties or {}).items():
        body += record(PROPATTR, INT16, int16(attr)) + record(PROPVALUE, ASCII, text(value))
    return body + record(ENDEL, NODATA)


def square(x: int = 0, y: int = 0, size: int = 1000, **kw: object) -> bytes:
    return boundary([(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)],
                    **kw)  # type: ignore[arg-type]


def sref(name: str, x: int = 0, y: int = 0) -> bytes:
    return (record(SREF, NODATA) + record(SNAME, ASCII, text(name))
            + record(XY, INT32, int32(x, y)) + record(ENDEL, NODATA))


def aref(name: str, columns: int, rows: int, step: int = 2000) -> bytes:
    return (record(AREF, NODATA) + record(SNAME, ASCII, text(name))
            + record(COLROW, INT16, int16(columns, rows))
            + record(XY, INT32, int32(0, 0, columns * step, 0, 0, rows * step))
            + record(ENDEL, NODATA))


def structure(name: str, *elements: bytes) -> bytes:
    return (record(BGNSTR, INT16, int16(*[0] * 12)) + record(STRNAME, ASCII, text(name))
            + b"".join(elements) + record(ENDSTR, NODATA))


def library(*structures: bytes, units: tuple[bytes, bytes] | None = None,
            endlib: bool = True) -> bytes:
    """A GDSII library; ``units``: the two raw 8-byte reals of UNITS (default 1 nm in µm)."""
    user, metres = units or (real8(1e-3), real8(1e-9))
    data = (record(HEADER, INT16, int16(600)) + record(BGNLIB, INT16, int16(*[0] * 12))
            + record(LIBNAME, ASCII, text("LIB")) + record(UNITS, REAL8, user + metres)
            + b"".join(structures))
    return data + (record(ENDLIB, NODATA) if endlib else b"")


def wavefab_square(pitch: str, shape: str) -> bytes:
    """A one-cell library whose square records ``pitch`` and ``shape`` as wavefab metadata."""
    meta = {1: "0.0.test", 2: pitch, 3: shape, 6: "1/0"}
    return library(structure("DESIGN", square(properties=meta)))


def good_layouts(folder: Path) -> dict[str, bytes]:
    """A small wavefab design as ``.gds`` and ``.oas`` (written by wavefab's export)."""
    import numpy as np

    from wavefab.designkit.export.layout import write_layout
    from wavefab.designkit.geometry import cell_polygons

    binary = np.zeros((12, 12), bool)
    binary[2:10, 3:9] = True
    binary[4:6, 5:7] = False  # a hole
    pitch = 1e-6
    out = {}
    for suffix in ("gds", "oas"):
        path = folder / f"good.{suffix}"
        write_layout(cell_polygons(binary, pitch), path, name="good",
                     bounds=(0.0, 0.0, 12 * pitch, 12 * pitch),
                     metadata={"pitch_m": pitch, "shape": binary.shape})
        out[suffix] = path.read_bytes()
    return out


def _oasis(write) -> bytes:  # type: ignore[no-untyped-def]
    """The bytes gdstk writes for a library built by ``write(lib)``."""
    import gdstk

    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    write(lib, gdstk)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.oas"
        lib.write_oas(path)
        return path.read_bytes()


def _huge_repetition(lib, gdstk) -> None:  # type: ignore[no-untyped-def]
    square_ = gdstk.rectangle((0, 0), (1, 1))
    square_.repetition = gdstk.Repetition(columns=100_000, rows=100_000, spacing=(2, 2))
    lib.new_cell("HUGE").add(square_)


def _huge_placement(lib, gdstk) -> None:  # type: ignore[no-untyped-def]
    unit = lib.new_cell("UNIT")
    unit.add(gdstk.rectangle((0, 0), (1, 1)))
    top = lib.new_cell("TOP")
    top.add(gdstk.Reference(unit, columns=100_000, rows=100_000, spacing=(2, 2)))


def _oasis_cycle(lib, gdstk) -> None:  # type: ignore[no-untyped-def]
    a = lib.new_cell("A")
    a.add(gdstk.rectangle((0, 0), (1, 1)))
    a.add(gdstk.Reference("A", (5, 5)))


def _zero_unit_oasis() -> bytes:
    """A minimal OASIS file whose START record gives 0 grid steps per µm."""
    start = bytes([1, 3]) + b"1.0" + bytes([0, 0]) + bytes([0]) + bytes(12)
    return b"%SEMI-OASIS\r\n" + start + _end_record(0)


def corpus() -> dict[str, bytes]:
    """File name → bytes."""
    with tempfile.TemporaryDirectory() as folder:
        good = good_layouts(Path(folder))
    gds, oas = good["gds"], good["oas"]
    rng = random.Random(18)
    flipped = bytearray(oas)
    flipped[len(oas) // 2] ^= 0x5A
    # the same file without its signature (validation scheme 0), damaged where gdstk crashes
    unsigned = bytearray(_without_signature(oas))
    for at in _damaging_flips(bytes(unsigned)):
        unsigned[at] ^= 0xFF
    chain = [structure(f"C{k}", sref(f"C{k + 1}")) for k in range(150)]
    chain.append(structure("C150", square()))
    i = gds.index(bytes([XY, INT32])) - 2  # the first XY record's length → 0
    zero_length = gds[:i] + struct.pack(">H", 0) + gds[i + 2:]
    return {
        # GDSII
        "empty.gds": b"",
        "random_bytes.gds": bytes(rng.randrange(256) for _ in range(2048)),
        "truncated.gds": gds[: len(gds) // 2],
        "no_endlib.gds": gds[:-4],
        "zero_record_length.gds": zero_length,
        "self_reference.gds": library(structure("A", square(), sref("A", 5000, 0))),
        "mutual_reference.gds": library(structure("A", square(), sref("B")),
                                        structure("B", square(), sref("A"))),
        "missing_cell.gds": library(structure("A", square(), sref("NOPE"))),
        "duplicate_cell.gds": library(structure("A", square()), structure("A", square())),
        "huge_aref.gds": library(structure("UNIT", square()),
                                 structure("TOP", aref("UNIT", 32767, 32767))),
        "nested_arefs.gds": library(structure("UNIT", square()),
                                    structure("ROW", aref("UNIT", 1000, 1000)),
                                    structure("TOP", aref("ROW", 1000, 1000, 2_000_000))),
        "zero_count_aref.gds": library(structure("UNIT", square()),
                                       structure("TOP", aref("UNIT", 0, 5))),
        "deep_chain.gds": library(*chain),
        "zero_units.gds": library(structure("A", square()), units=(bytes(8), bytes(8))),
        "negative_units.gds": library(structure("A", square()),
                                      units=(real8(-1e-3), real8(1e-9))),
        "huge_database_unit.gds": library(structure("A", square()),
                                          units=(real8(1e-3), real8(1e60))),
        "two_point_boundary.gds": library(structure("A", boundary([(0, 0), (1000, 1000)]))),
        "xy_outside_element.gds": library(structure("A", record(XY, INT32, int32(0, 0)))),
        "unknown_record.gds": library(structure("A", record(0x77, NODATA), square())),
        "unnamed_cell.gds": library(record(BGNSTR, INT16, int16(*[0] * 12)) + square()
                                    + record(ENDSTR, NODATA)),
        "recorded_huge_shape.gds": wavefab_square("1e-06", "1000000000 1000000000"),
        "recorded_nan_pitch.gds": wavefab_square("nan", "12 12"),
        "recorded_negative_pitch.gds": wavefab_square("-1e-06", "12 12"),
        "recorded_tiny_pitch.gds": library(structure("DESIGN", square(
            properties={1: "0.0.test", 2: "1e-15", 6: "1/0"}))),
        "recorded_bad_shape.gds": wavefab_square("1e-06", "12"),
        # OASIS
        "empty.oas": b"",
        "not_oasis.oas": bytes(rng.randrange(256) for _ in range(1024)),
        "truncated.oas": oas[: len(oas) // 2],
        "bit_flipped.oas": bytes(flipped),
        "bit_flipped_unsigned.oas": bytes(unsigned),
        "zero_unit.oas": _zero_unit_oasis(),
        "huge_repetition.oas": _oasis(_huge_repetition),
        "huge_placement.oas": _oasis(_huge_placement),
        "cycle.oas": _oasis(_oasis_cycle),
    }


def _end_record(scheme: int) -> bytes:
    """A 256-byte OASIS END record without table offsets: ID 2, a padding string (its length
    252 takes two bytes) and the validation scheme (0: no signature)."""
    return bytes([2, 0xFC, 0x01]) + bytes(252) + bytes([scheme])


def _without_signature(oas: bytes) -> bytes:
    """A gdstk OASIS file (table offsets in its END record, CRC-32) with validation scheme 0:
    the 4 signature bytes go into the padding, so that END stays 256 bytes."""
    end = len(oas) - 256
    pos = end + 1
    for _ in range(12):  # the table offsets: six (flag, offset) pairs of unsigned integers
        while oas[pos] & 0x80:
            pos += 1
        pos += 1
    padding = 256 - (pos - end) - 2 - 1  # two bytes of padding length, one of scheme
    assert 128 <= padding < 16384
    return oas[:pos] + bytes([0x80 | padding & 0x7F, padding >> 7]) + bytes(padding) + b"\0"


def _damaging_flips(data: bytes) -> list[int]:
    """Byte positions whose flip (0xFF) makes gdstk 1.0's OASIS reader crash (SIGSEGV) on the
    good file: found by flipping every byte in a forked child; recorded here so that the file
    stays the same."""
    del data
    return [120]


if __name__ == "__main__":
    from corpus_files import write_corpus  # the script's own folder is on sys.path

    write_corpus(OUT, corpus())
