"""The checks a layout file passes before a native reader (gdstk) sees it.

gdstk reads GDSII and OASIS in C++ and trusts the file: a truncated or bit-flipped file, a cell
that references itself, an array reference of 10⁹ placements or an OASIS repetition of 10¹⁰
copies crash or hang it, and no Python ``except`` can catch a segmentation fault. So:

* :func:`check_gds` scans the GDSII record stream in pure Python/numpy (no flattening, no native
  code) and refuses anything that is not a well-formed library within the bounds below: record
  lengths, record order, units, polygon rings, the cell reference graph (no cycles, no missing
  cells, bounded depth) and the counts a full flattening would produce, computed over the
  reference graph with multiplicities.
* :func:`check_oasis` checks what can be checked of an OASIS file without decoding it (the magic
  bytes, the START record's unit, the END record and its validation signature), and
  :func:`oasis_to_gds` then has gdstk convert it to GDSII in a child process with a time and
  memory limit, so that a crash is an error line, never the end of the program; the GDSII it
  writes goes through :func:`check_gds` like any other.

Every refusal is a :class:`~wavefab.designkit.errors.FileFormatError` naming the file, what is
wrong and the fix. The bounds are what a wavefab design can be (at most
:data:`~wavefab.designkit.results.MAX_DESIGN_CELLS` cells, a few polygons per cell) with a wide
margin for other tools' layouts, and far below what would exhaust memory.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DesignValueError, FileFormatError

#: The largest layout file read (bytes): a 16-million-cell design's GDSII is a few hundred MB.
MAX_FILE_BYTES = 1 << 30
#: The most cells (GDSII structures) in one library; a wavefab layout has one.
MAX_CELLS = 100_000
#: The deepest chain of cell references; gdstk flattens by recursion, so a chain of thousands
#: of cells would overflow the native stack. Real layouts nest a few to a few tens deep.
MAX_DEPTH = 100
#: The most polygons (boundaries, paths, boxes) one cell holds once flattened.
MAX_FLAT_POLYGONS = 2_000_000
#: The most polygon vertices one cell holds once flattened (≈ 0.5 GB as float pairs).
MAX_FLAT_VERTICES = 32_000_000
#: The most cell placements (each copy of an array counted) one cell holds once flattened.
MAX_FLAT_REFERENCES = 2_000_000
#: The widest range of database units read (metres): 1 fm to 1 m.
DATABASE_UNIT_RANGE = (1e-15, 1.0)
#: The widest range of the database unit in user units (GDSII UNITS' first value); files write
#: 1e-3 (1 nm in µm) or 1.0 (user unit = database unit).
USER_RATIO_RANGE = (1e-12, 1e6)
#: The OASIS converter's limits: wall-clock seconds and address space (bytes).
OASIS_TIMEOUT_S = 60.0
OASIS_MEMORY_BYTES = 4 << 30

_DAMAGED = "the file is damaged; export or copy it again"
_GDS = "cannot read it as GDSII: "
_OAS = "cannot read it as OASIS: "


class LayoutFileError(FileFormatError, DesignValueError):
    """A layout file that is damaged, truncated, crafted or beyond the bounds below.

    A :class:`FileFormatError` (the message names the file, the problem and the fix), and a
    :class:`DesignValueError` as well: what :func:`~.layout.read_layout` raised for an
    unreadable file before these checks, so callers catching that still do.
    """

# GDSII record types (the byte after the record length) and their names for messages.
_NAMES = (
    "HEADER BGNLIB LIBNAME UNITS ENDLIB BGNSTR STRNAME ENDSTR BOUNDARY PATH SREF AREF TEXT LAYER "
    "DATATYPE WIDTH XY ENDEL SNAME COLROW TEXTNODE NODE TEXTTYPE PRESENTATION SPACING STRING "
    "STRANS MAG ANGLE UINTEGER USTRING REFLIBS FONTS PATHTYPE GENERATIONS ATTRTABLE STYPTABLE "
    "STRTYPE ELFLAGS ELKEY LINKTYPE LINKKEYS NODETYPE PROPATTR PROPVALUE BOX BOXTYPE PLEX "
    "BGNEXTN ENDEXTN TAPENUM TAPECODE STRCLASS RESERVED FORMAT MASK ENDMASKS LIBDIRSIZE SRFNAME "
    "LIBSECUR").split()
_T = {name: code for code, name in enumerate(_NAMES)}
_LAST_TYPE = len(_NAMES) - 1

# (data type, payload bytes: exact size, or (minimum, multiple)) of the records gdstk decodes;
# data types: 0 none, 1 bit array, 2 int16, 3 int32, 5 real8, 6 ASCII string.
_LAYOUT: dict[str, tuple[int, int | tuple[int, int]]] = {
    "HEADER": (2, 2), "BGNLIB": (2, 24), "LIBNAME": (6, (2, 2)), "UNITS": (5, 16),
    "ENDLIB": (0, 0), "BGNSTR": (2, 24), "STRNAME": (6, (2, 2)), "ENDSTR": (0, 0),
    "BOUNDARY": (0, 0), "PATH": (0, 0), "SREF": (0, 0), "AREF": (0, 0), "TEXT": (0, 0),
    "NODE": (0, 0), "BOX": (0, 0), "ENDEL": (0, 0), "LAYER": (2, 2), "DATATYPE": (2, 2),
    "TEXTTYPE": (2, 2), "NODETYPE": (2, 2), "BOXTYPE": (2, 2), "PATHTYPE": (2, 2),
    "WIDTH": (3, 4), "BGNEXTN": (3, 4), "ENDEXTN": (3, 4), "XY": (3, (8, 8)),
    "SNAME": (6, (2, 2)), "COLROW": (2, 4), "PRESENTATION": (1, 2), "STRANS": (1, 2),
    "MAG": (5, 8), "ANGLE": (5, 8), "STRING": (6, (0, 2)), "PROPATTR": (2, 2),
    "PROPVALUE": (6, (0, 2)), "ELFLAGS": (1, 2), "PLEX": (3, 4),
}
_ELEMENTS = ("BOUNDARY", "PATH", "SREF", "AREF", "TEXT", "NODE", "BOX")
_PROPS = ("PROPATTR", "PROPVALUE", "ELFLAGS", "PLEX")
#: element → the records it may hold; the required ones once each, the others at most once
#: (properties any number of times).
_BODY = {
    "BOUNDARY": (("LAYER", "DATATYPE", "XY"), ()),
    "PATH": (("LAYER", "DATATYPE", "XY"), ("PATHTYPE", "WIDTH", "BGNEXTN", "ENDEXTN")),
    "SREF": (("SNAME", "XY"), ("STRANS", "MAG", "ANGLE")),
    "AREF": (("SNAME", "COLROW", "XY"), ("STRANS", "MAG", "ANGLE")),
    "TEXT": (("LAYER", "TEXTTYPE", "XY", "STRING"),
             ("PRESENTATION", "PATHTYPE", "WIDTH", "STRANS", "MAG", "ANGLE")),
    "NODE": (("LAYER", "NODETYPE", "XY"), ()),
    "BOX": (("LAYER", "BOXTYPE", "XY"), ()),
}
#: element → (fewest, most) XY points: a polygon ring is 3 corners and the closing point.
_POINTS = {"BOUNDARY": (4, 8191), "PATH": (2, 8191), "SREF": (1, 1), "AREF": (3, 3),
           "TEXT": (1, 1), "NODE": (1, 50), "BOX": (5, 5)}
#: records of the library header, before the first cell.
_HEADER_ONLY = ("HEADER", "BGNLIB", "LIBNAME", "UNITS", "REFLIBS", "FONTS", "ATTRTABLE",
                "GENERATIONS", "FORMAT", "MASK", "ENDMASKS", "LIBDIRSIZE", "SRFNAME", "LIBSECUR")
_BODY_TYPES = sorted({r for req, opt in _BODY.values() for r in (*req, *opt)} | set(_PROPS))


def _tables() -> tuple[np.ndarray, ...]:
    """Per record type: expected data type (-1: any), payload size, minimum and multiple."""
    dtype = np.full(256, -1, np.int16)
    exact = np.full(256, -1, np.int32)
    minimum = np.zeros(256, np.int32)
    multiple = np.ones(256, np.int32)
    for name, (kind, size) in _LAYOUT.items():
        code = _T[name]
        dtype[code] = kind
        if isinstance(size, tuple):
            minimum[code], multiple[code] = size
        else:
            exact[code] = size
    return dtype, exact, minimum, multiple


_DTYPE, _EXACT, _MINIMUM, _MULTIPLE = _tables()
# Record order, seen through the records that open and close things: B BGNSTR, E ENDSTR,
# s an element, e ENDEL, L ENDLIB. A library is (B (s e)* E)* L.
_EVENT = np.full(256, -1, np.int8)
_EVENT[_T["BGNSTR"]], _EVENT[_T["ENDSTR"]], _EVENT[_T["ENDEL"]], _EVENT[_T["ENDLIB"]] = 0, 1, 3, 4
for _name in _ELEMENTS:
    _EVENT[_T[_name]] = 2
_NEXT = np.zeros((5, 5), bool)  # _NEXT[a, b]: event b may follow event a
for _a, _b in ((0, 1), (0, 2), (2, 3), (3, 2), (3, 1), (1, 0), (1, 4)):
    _NEXT[_a, _b] = True


@dataclass(frozen=True)
class GdsFacts:
    """What :func:`check_gds` found in a GDSII file that passed its checks.

    Attributes:
        path: the file.
        size_bytes: its size.
        records: the records up to ENDLIB.
        library: the library name.
        user_unit_m: the user unit (metres): what gdstk's coordinates are in.
        database_unit_m: the database unit (metres): the coordinate grid.
        cells: the cell names, in file order.
        top_cells: the cells no other cell references.
        polygons: boundaries, paths and boxes written in the file (not flattened).
        references: SREF and AREF elements written in the file.
        flat_polygons: the most polygons any cell holds once flattened.
        flat_vertices: the most vertices any cell holds once flattened.
        flat_references: the most placements any cell holds once flattened.
        depth: the longest chain of references (0: no references).
    """

    path: Path
    size_bytes: int
    records: int
    library: str
    user_unit_m: float
    database_unit_m: float
    cells: tuple[str, ...]
    top_cells: tuple[str, ...]
    polygons: int
    references: int
    flat_polygons: int
    flat_vertices: int
    flat_references: int
    depth: int


def read_checked_bytes(path: Path, shown: object, kind: str) -> bytes:
    """The bytes of a layout file that exists, is not empty and is at most MAX_FILE_BYTES.

    Raises:
        FileFormatError: a missing, unreadable, empty or oversized file.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LayoutFileError(shown, f"the file is {size / 2**30:.1f} GiB, above the "
                                  f"{MAX_FILE_BYTES / 2**30:.0f} GiB wavefab reads as {kind}; "
                                  "split the layout or export only the design's cell")
        data = path.read_bytes()
    except OSError as exc:
        raise LayoutFileError(shown, f"cannot be read ({exc.strerror or exc}); check the path "
                              "and its permissions") from None
    if not data:
        raise LayoutFileError(shown, f"the file is empty, not {kind}; export it again")
    return data


def real8(raw: bytes) -> float:
    """A GDSII 8-byte real: sign bit, excess-64 base-16 exponent, 56-bit mantissa."""
    mantissa = int.from_bytes(raw[1:8], "big")
    value = math.ldexp(mantissa, 4 * ((raw[0] & 0x7F) - 64) - 56)
    return -value if raw[0] & 0x80 else value


def _record_offsets(data: bytes, shown: object) -> list[int]:
    """The byte offset of every record up to and including ENDLIB.

    The walk is one sequential chain (each record's length gives the next one's start), so it
    is the one loop in Python; everything after it is vectorized.
    """
    offsets: list[int] = []
    append = offsets.append
    size = len(data)
    pos = 0
    endlib = _T["ENDLIB"]
    if data[:4] != b"\x00\x06\x00\x02":  # HEADER: 6 bytes, type 0, two-byte integer
        raise LayoutFileError(shown, f"{_GDS}it does not start with a HEADER record; it is "
                              "not a GDSII file (or a damaged one): export it again as GDSII")
    while pos + 4 <= size:
        length = (data[pos] << 8) | data[pos + 1]
        if length < 4:
            break
        append(pos)
        if data[pos + 2] == endlib:
            return offsets
        pos += length
    if pos + 4 <= size:
        raise LayoutFileError(shown, f"{_GDS}the record at byte {pos:,} has length "
                              f"{(data[pos] << 8) | data[pos + 1]} (GDSII records are at least "
                              f"4 bytes); {_DAMAGED}")
    if not offsets:
        raise LayoutFileError(shown, f"{_GDS}the file is {size} bytes, too short for a "
                              "library; it is truncated or not GDSII")
    if pos > size:
        last = offsets[-1]
        raise LayoutFileError(shown, f"{_GDS}the file is truncated: its last record "
                              f"({_name(data[last + 2])} at byte {last:,}) runs "
                              f"{pos - size:,} bytes past the end, and ENDLIB is missing; "
                              "export or copy it again")
    raise LayoutFileError(shown, f"{_GDS}the file is truncated: it ends at byte {size:,} "
                          "without the ENDLIB record that closes a GDSII library; export or "
                          "copy it again")


def _name(code: int) -> str:
    return _NAMES[code] if code <= _LAST_TYPE else f"type 0x{code:02x}"


def _text(data: bytes, offset: int, length: int) -> bytes:
    return data[offset + 4: offset + length].rstrip(b"\0")


def check_gds(path: str | Path, *, shown: object = None) -> GdsFacts:
    """Check a GDSII file before any native reader sees it (no flattening, no native code).

    Args:
        path: the ``.gds`` file.
        shown: the name messages give the file (default: ``path``); an OASIS file converted to
            GDSII is named as the OASIS file.

    Returns:
        The units, cells and counts of a file that passed.

    Raises:
        FileFormatError: naming the file, the first problem found and the fix.
    """
    path = Path(path)
    shown = path if shown is None else shown
    data = read_checked_bytes(path, shown, "GDSII")
    offsets = _record_offsets(data, shown)
    buf = np.frombuffer(data, np.uint8)
    off = np.asarray(offsets, np.int64)
    length = (buf[off].astype(np.int64) << 8) | buf[off + 1]
    rtype = buf[off + 2].astype(np.int64)
    dtype = buf[off + 3].astype(np.int64)
    payload = length - 4

    def fail(index: int, problem: str) -> FileFormatError:
        return LayoutFileError(shown, f"{_GDS}the {_name(int(rtype[index]))} record at "
                               f"byte {int(off[index]):,}: {problem}; {_DAMAGED}")

    def first(mask: np.ndarray) -> int | None:
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else None

    if (i := first(rtype > _LAST_TYPE)) is not None:
        raise fail(i, "unknown record type")
    if (i := first((length & 1) == 1)) is not None:
        raise fail(i, f"odd record length {int(length[i])}")
    if (i := first((_DTYPE[rtype] >= 0) & (dtype != _DTYPE[rtype]))) is not None:
        raise fail(i, f"data type {int(dtype[i])}, not {int(_DTYPE[rtype[i]])}")
    if (i := first((dtype > 6) | (dtype == 4))) is not None:
        raise fail(i, f"unknown data type {int(dtype[i])}")
    exact = _EXACT[rtype]
    if (i := first(((exact >= 0) & (payload != exact))
                   | (payload < _MINIMUM[rtype]) | (payload % _MULTIPLE[rtype] != 0))) is not None:
        raise fail(i, f"{int(payload[i])} bytes of data do not fit the record")
    if rtype[1] != _T["BGNLIB"]:
        raise fail(1, "a GDSII library starts HEADER, BGNLIB")

    # Record order: structures and elements open and close in turn.
    event = _EVENT[rtype]
    at = np.flatnonzero(event >= 0)
    codes = event[at]
    if codes[0] not in (0, 4):
        raise fail(int(at[0]), "comes before any cell (BGNSTR)")
    if (k := first(~_NEXT[codes[:-1], codes[1:]])) is not None:
        raise fail(int(at[k + 1]), f"follows {_name(int(rtype[at[k]]))} at byte "
                   f"{int(off[at[k]]):,} (the records are out of order)")
    is_bgnstr = rtype == _T["BGNSTR"]
    header_end = int(at[0])
    header = rtype[:header_end]
    header_only = np.isin(rtype, [_T[n] for n in _HEADER_ONLY])
    if (i := first(header_only[header_end:])) is not None:
        raise fail(header_end + i, "belongs in the library header, not inside a cell")
    for needed in ("LIBNAME", "UNITS"):
        if np.count_nonzero(header == _T[needed]) != 1:
            raise LayoutFileError(shown, f"the library header has "
                                  f"{np.count_nonzero(header == _T[needed])} {needed} records, "
                                  f"not one; {_DAMAGED}")
    units_at = int(np.flatnonzero(header == _T["UNITS"])[0])
    ratio = real8(data[offsets[units_at] + 4: offsets[units_at] + 12])
    database_unit = real8(data[offsets[units_at] + 12: offsets[units_at] + 20])
    if not (DATABASE_UNIT_RANGE[0] <= database_unit <= DATABASE_UNIT_RANGE[1]):
        raise LayoutFileError(shown, f"its database unit is {database_unit:g} m (UNITS); a "
                              f"layout's grid is a positive length from "
                              f"{DATABASE_UNIT_RANGE[0]:g} to {DATABASE_UNIT_RANGE[1]:g} m, "
                              "e.g. 1e-9: set the units in the tool that wrote it")
    if not (USER_RATIO_RANGE[0] <= ratio <= USER_RATIO_RANGE[1]):
        raise LayoutFileError(shown, f"its database unit is {ratio:g} user units (UNITS); it "
                              f"must be a positive number from {USER_RATIO_RANGE[0]:g} to "
                              f"{USER_RATIO_RANGE[1]:g}, e.g. 0.001 (1 nm in µm): set the "
                              "units in the tool that wrote it")
    library = _text(data, offsets[int(np.flatnonzero(header == _T["LIBNAME"])[0])],
                    int(length[np.flatnonzero(header == _T["LIBNAME"])[0]]))

    # Inside cells: STRNAME right after BGNSTR, element records inside their element.
    bgn = np.flatnonzero(is_bgnstr)
    if bgn.size == 0:
        raise LayoutFileError(shown, "the library holds no cells; export the design again")
    if bgn.size > MAX_CELLS:
        raise LayoutFileError(shown, f"the library has {bgn.size:,} cells, above the "
                              f"{MAX_CELLS:,} wavefab reads; export only the design's cell")
    strname = np.flatnonzero(rtype == _T["STRNAME"])
    if strname.size != bgn.size or not np.array_equal(strname, bgn + 1):
        i = int(bgn[0] + 1) if strname.size == 0 else int(
            np.setxor1d(strname, bgn + 1)[0])
        raise fail(min(i, len(off) - 1), "each cell (BGNSTR) is named by the STRNAME record "
                   "right after it")
    is_start = event == 2
    depth = np.cumsum(is_start) - np.cumsum(event == 3)  # 1 inside an element
    body_code = np.full(256, -1, np.int64)
    body_code[[_T[n] for n in _BODY_TYPES]] = np.arange(len(_BODY_TYPES))
    code = body_code[rtype]
    is_body = code >= 0
    if (i := first(is_body & (depth != 1))) is not None:
        raise fail(i, "belongs inside an element (BOUNDARY, SREF …)")
    is_struct_level = ~is_body & (event < 0) & ~header_only & (rtype != _T["STRNAME"])
    allowed_level = np.isin(rtype, [_T["STRCLASS"]])
    if (i := first(is_struct_level & ~allowed_level)) is not None:
        raise fail(i, "is not a record wavefab reads in a cell")
    starts = np.flatnonzero(is_start)
    element = np.cumsum(is_start) - 1  # the element each body record belongs to
    kind = rtype[starts]
    body = np.flatnonzero(is_body)
    owner = element[body]
    owner_kind = kind[owner]
    # allowed[element type, body code]: may the element hold the record?
    allowed = np.zeros((256, len(_BODY_TYPES)), bool)
    for name, (required, optional) in _BODY.items():
        for rec in (*required, *optional, *_PROPS):
            allowed[_T[name], _BODY_TYPES.index(rec)] = True
    if (k := first(~allowed[owner_kind, code[body]])) is not None:
        raise fail(int(body[k]), f"does not belong in a {_name(int(owner_kind[k]))} element")
    for rec in ("LAYER", "DATATYPE", "TEXTTYPE", "NODETYPE", "BOXTYPE", "XY", "SNAME",
                "COLROW", "STRING", "PATHTYPE", "WIDTH", "BGNEXTN", "ENDEXTN", "STRANS",
                "MAG", "ANGLE", "PRESENTATION"):
        counts = np.bincount(owner[code[body] == _BODY_TYPES.index(rec)],
                             minlength=starts.size)
        needs = np.isin(kind, [_T[n] for n, (req, _) in _BODY.items() if rec in req])
        if (k := first(counts > 1)) is not None:
            raise fail(int(starts[k]), f"holds {int(counts[k])} {rec} records, not one")
        if (k := first(needs & (counts == 0))) is not None:
            raise fail(int(starts[k]), f"has no {rec} record")
    is_attr, is_value = rtype == _T["PROPATTR"], rtype == _T["PROPVALUE"]
    if (i := first(is_attr[:-1] != is_value[1:])) is not None:
        raise fail(i if is_attr[i] else i + 1, "a property is a PROPATTR and then a PROPVALUE")

    # Points: a polygon is a ring, a placement one point, an array three.
    xy = np.flatnonzero(rtype == _T["XY"])
    points = payload[xy] // 8
    xy_kind = kind[element[xy]]
    low = np.zeros(256, np.int64)
    high = np.zeros(256, np.int64)
    for name, (a, b) in _POINTS.items():
        low[_T[name]], high[_T[name]] = a, b
    if (k := first((points < low[xy_kind]) | (points > high[xy_kind]))) is not None:
        name = _name(int(xy_kind[k]))
        want = (f"at least {low[xy_kind[k]]}" if name in ("BOUNDARY", "PATH")
                else f"{low[xy_kind[k]]}")
        extra = " (3 corners and the closing point)" if name == "BOUNDARY" else ""
        at = int(off[starts[element[xy[k]]]])
        raise LayoutFileError(shown, f"the {name} element at byte {at:,} has "
                              f"{int(points[k])} points, not {want}{extra}; fix or delete it in "
                              "the tool that wrote the file")

    # Cells and the reference graph.
    names: list[str] = []
    index: dict[str, int] = {}
    for i in bgn + 1:
        raw = _text(data, offsets[i], int(length[i]))
        name = _decode_name(raw, shown, int(off[i]))
        if name in index:
            raise LayoutFileError(shown, f"it defines cell {name!r} twice; rename one in the "
                                  "tool that wrote it")
        index[name] = len(names)
        names.append(name)
    cell_of = np.cumsum(is_bgnstr) - 1
    n_cells = len(names)
    is_shape = np.isin(kind, [_T["BOUNDARY"], _T["PATH"], _T["BOX"]])
    own_polygons = np.bincount(cell_of[starts[is_shape]], minlength=n_cells)
    weight = np.where(xy_kind == _T["PATH"], 2 * points + 2, points)  # a path's outline
    shape_xy = np.isin(xy_kind, [_T["BOUNDARY"], _T["PATH"], _T["BOX"]])
    own_vertices = np.bincount(cell_of[xy[shape_xy]], weights=weight[shape_xy],
                               minlength=n_cells).astype(np.int64)
    refs = starts[np.isin(kind, [_T["SREF"], _T["AREF"]])]
    edges = _references(data, offsets, length, rtype, element, refs, starts, cell_of, names,
                        index, shown)
    depth_of, flat = _flatten(edges, names, own_polygons, own_vertices, shown)
    tops = sorted(set(range(n_cells)) - {c for targets in edges for c in targets})
    worst = [max(column) for column in zip(*flat, strict=True)]
    return GdsFacts(path=path, size_bytes=len(data), records=len(offsets),
                    library=library.decode("utf-8", "replace"),
                    user_unit_m=database_unit / ratio, database_unit_m=database_unit,
                    cells=tuple(names), top_cells=tuple(names[c] for c in tops),
                    polygons=int(own_polygons.sum()), references=int(refs.size),
                    flat_polygons=worst[0], flat_vertices=worst[1], flat_references=worst[2],
                    depth=max(depth_of, default=0))


def _decode_name(raw: bytes, shown: object, at: int) -> str:
    """A cell name: printable text without NUL bytes (gdstk cuts names at a NUL)."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = ""
    if not name or not name.isprintable():
        raise LayoutFileError(shown, f"the cell name at byte {at:,} ({raw[:40]!r}) is not "
                              f"printable text; {_DAMAGED}")
    return name


def _references(data: bytes, offsets: list[int], length: np.ndarray, rtype: np.ndarray,
                element: np.ndarray, refs: np.ndarray, starts: np.ndarray,
                cell_of: np.ndarray, names: list[str], index: dict[str, int],
                shown: object) -> list[dict[int, int]]:
    """Each cell's references: target cell → number of placements (an array's copies)."""
    edges: list[dict[int, int]] = [{} for _ in names]
    if refs.size == 0:
        return edges
    # The SNAME and COLROW records of each reference (each element holds at most one of each).
    sname = np.flatnonzero(rtype == _T["SNAME"])
    colrow = np.flatnonzero(rtype == _T["COLROW"])
    by_element_sname = dict(zip(element[sname].tolist(), sname.tolist(), strict=True))
    by_element_colrow = dict(zip(element[colrow].tolist(), colrow.tolist(), strict=True))
    element_of_start = {int(s): k for k, s in enumerate(starts.tolist())}
    cache: dict[bytes, int] = {}
    for start in refs.tolist():
        k = element_of_start[start]
        i = by_element_sname[k]
        raw = _text(data, offsets[i], int(length[i]))
        parent = int(cell_of[start])
        target = cache.get(raw)
        if target is None:
            name = _decode_name(raw, shown, offsets[i])
            if name not in index:
                raise LayoutFileError(shown, f"cell {names[parent]!r} references cell "
                                      f"{name!r}, which the file does not define; export the "
                                      "library with all its cells")
            target = cache[raw] = index[name]
        copies = 1
        if rtype[start] == _T["AREF"]:
            o = offsets[by_element_colrow[k]] + 4
            columns = int.from_bytes(data[o:o + 2], "big", signed=True)
            rows = int.from_bytes(data[o + 2:o + 4], "big", signed=True)
            if columns < 1 or rows < 1:
                raise LayoutFileError(shown, f"an array of cell {names[target]!r} in cell "
                                      f"{names[parent]!r} has {columns} × {rows} copies; "
                                      f"counts are 1 to 32767; {_DAMAGED}")
            copies = columns * rows
            if copies > MAX_FLAT_REFERENCES:
                raise LayoutFileError(shown, f"an array in cell {names[parent]!r} places cell "
                                      f"{names[target]!r} {columns:,} × {rows:,} times, above "
                                      f"the {MAX_FLAT_REFERENCES:,} placements wavefab "
                                      "flattens; flatten or split it in the tool that wrote it")
        edges[parent][target] = edges[parent].get(target, 0) + copies
    return edges


def _flatten(edges: list[dict[int, int]], names: list[str], own_polygons: np.ndarray,
             own_vertices: np.ndarray, shown: object
             ) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Depth and flattened (polygons, vertices, placements) of every cell.

    Computed over the reference graph with multiplicities, in exact Python integers: no
    flattening, no overflow.

    Raises:
        FileFormatError: a reference cycle (named), or a bound exceeded.
    """
    n = len(names)
    state = [0] * n  # 0 unseen, 1 on the path, 2 done
    depth = [0] * n
    flat: list[tuple[int, int, int]] = [(0, 0, 0)] * n
    for root in range(n):
        if state[root]:
            continue
        path = [root]
        iters = [iter(edges[root])]
        state[root] = 1
        while path:  # iterative depth-first search: chains may be deep
            child = next(iters[-1], None)
            if child is not None:
                if state[child] == 1:
                    cycle = [*path[path.index(child):], child]
                    if len(cycle) == 2:
                        what = f"cell {names[child]!r} references itself"
                    else:
                        what = "cells " + " → ".join(names[c] for c in cycle) + " form a cycle"
                    raise LayoutFileError(shown, f"{what}, so it has no finite layout; break "
                                          "the cycle in the tool that wrote it")
                if state[child] == 0:
                    state[child] = 1
                    path.append(child)
                    iters.append(iter(edges[child]))
                continue
            cell = path.pop()
            iters.pop()
            state[cell] = 2
            polygons, vertices, placed = int(own_polygons[cell]), int(own_vertices[cell]), 0
            for target, copies in edges[cell].items():
                p, v, r = flat[target]
                polygons += copies * p
                vertices += copies * v
                placed += copies * (1 + r)
                depth[cell] = max(depth[cell], depth[target] + 1)
            flat[cell] = (polygons, vertices, placed)
            for count, bound, what in ((polygons, MAX_FLAT_POLYGONS, "polygons"),
                                       (vertices, MAX_FLAT_VERTICES, "vertices"),
                                       (placed, MAX_FLAT_REFERENCES, "cell placements")):
                if count > bound:
                    raise LayoutFileError(shown, f"cell {names[cell]!r} flattens to "
                                          f"{_count(count)} {what}, above the {bound:,} wavefab "
                                          "reads; export only the design's cell, or a smaller "
                                          "array")
            if depth[cell] > MAX_DEPTH:
                raise LayoutFileError(shown, f"cell {names[cell]!r} nests references "
                                      f"{depth[cell]} deep, above the {MAX_DEPTH} wavefab "
                                      "reads; flatten the hierarchy in the tool that wrote it")
    return depth, flat


def _count(value: int) -> str:
    return f"{value:,}" if value < 10**15 else f"{float(value):.3g}"


# ---- OASIS ---------------------------------------------------------------------------------

OASIS_MAGIC = b"%SEMI-OASIS\r\n"
#: The END record's fixed length (bytes), record ID included: the last 256 bytes of the file.
_END_BYTES = 256


@dataclass(frozen=True)
class OasisFacts:
    """What :func:`check_oasis` found: the version, the unit and the validation scheme."""

    path: Path
    size_bytes: int
    version: str
    database_unit_m: float
    validation: str  # "none", "crc32" or "checksum32"


class _Truncated(Exception):
    pass


def _uint(data: bytes, pos: int) -> tuple[int, int]:
    """An OASIS unsigned integer (7 bits a byte, low first) and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Truncated
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _real(data: bytes, pos: int) -> tuple[float, int]:
    """An OASIS real (types 0–7) and the position after it."""
    kind, pos = _uint(data, pos)
    if kind in (0, 1, 2, 3):
        value, pos = _uint(data, pos)
        if kind in (2, 3):
            value = 1.0 / value if value else math.inf
        return (-float(value) if kind in (1, 3) else float(value)), pos
    if kind in (4, 5):
        num, pos = _uint(data, pos)
        den, pos = _uint(data, pos)
        value = num / den if den else math.inf
        return (-value if kind == 5 else value), pos
    if kind in (6, 7):
        width = 4 if kind == 6 else 8
        if pos + width > len(data):
            raise _Truncated
        raw = np.frombuffer(data[pos:pos + width], "<f4" if kind == 6 else "<f8")[0]
        return float(raw), pos + width
    return math.nan, pos


def check_oasis(path: str | Path) -> OasisFacts:
    """Check what an OASIS file says about itself before any native reader sees it.

    The magic bytes, the START record (version 1.0, a positive finite unit giving a database
    unit in :data:`DATABASE_UNIT_RANGE`), the END record closing the file (a truncated file has
    none) and its validation signature (CRC-32 or checksum-32, over every byte up to and
    including the validation scheme) when it carries one.

    Raises:
        FileFormatError: naming the file, the problem and the fix.
    """
    path = Path(path)
    data = read_checked_bytes(path, path, "OASIS")
    if not data.startswith(OASIS_MAGIC):
        raise LayoutFileError(path, f"{_OAS}it does not start with the magic '%SEMI-OASIS'; "
                              "it is not an OASIS file (or a damaged one): export it again")
    pos = len(OASIS_MAGIC)
    try:
        if data[pos] != 1:
            raise LayoutFileError(path, f"the START record is missing after the magic bytes; "
                                  f"{_DAMAGED}")
        size, pos = _uint(data, pos + 1)
        version = data[pos:pos + size].decode("ascii", "replace")
        unit, pos = _real(data, pos + size)
        offset_flag, _ = _uint(data, pos)
    except (_Truncated, IndexError):
        raise LayoutFileError(path, f"{_OAS}the file is truncated inside its START record "
                              f"({len(data)} bytes); export or copy it again") from None
    if version != "1.0":
        raise LayoutFileError(path, f"OASIS version {version[:20]!r}, not '1.0'; {_DAMAGED}")
    database_unit = 1e-6 / unit if unit > 0 and math.isfinite(unit) else math.nan
    if not (DATABASE_UNIT_RANGE[0] <= database_unit <= DATABASE_UNIT_RANGE[1]):
        raise LayoutFileError(path, f"its unit is {unit:g} grid steps per µm (START); a "
                              "layout's grid must be a positive length from "
                              f"{DATABASE_UNIT_RANGE[0]:g} to {DATABASE_UNIT_RANGE[1]:g} m: set "
                              "the units in the tool that wrote it")
    end = len(data) - _END_BYTES
    truncated = LayoutFileError(path, f"{_OAS}the file is truncated or damaged at its end: "
                                "an OASIS file closes with a 256-byte END record, and this one "
                                "has none; export or copy it again")
    if end <= pos or data[end] != 2:
        raise truncated
    try:
        at = end + 1
        if offset_flag == 1:  # the table offsets are in the END record
            for _ in range(12):
                _, at = _uint(data, at)
        padding, at = _uint(data, at)
        scheme, at = _uint(data, at + padding)
    except _Truncated:
        raise truncated from None
    names = {0: "none", 1: "crc32", 2: "checksum32"}
    if scheme not in names or at + (4 if scheme else 0) != len(data):
        raise truncated
    if scheme:
        stored = int.from_bytes(data[at:at + 4], "little")
        covered = memoryview(data)[:at]
        if scheme == 1:
            computed = zlib.crc32(covered)
        else:
            computed = int(np.frombuffer(covered, np.uint8).sum(dtype=np.uint64)) & 0xFFFFFFFF
        if computed != stored:
            raise LayoutFileError(path, f"its {names[scheme]} signature does not match its "
                                  f"contents (stored {stored:08x}, computed {computed:08x}): "
                                  "the file is damaged; export or copy it again")
    return OasisFacts(path=path, size_bytes=len(data), version=version,
                      database_unit_m=database_unit, validation=names[scheme])


@dataclass
class ConvertedOasis:
    """An OASIS file as GDSII, and the cell properties GDSII cannot hold.

    Attributes:
        gds: the GDSII file, in a temporary folder the caller removes.
        properties: cell name → ``[[name, value], …]``.
    """

    gds: Path
    properties: dict[str, list[list[object]]]


def oasis_to_gds(path: str | Path, folder: str | Path, *, timeout: float = OASIS_TIMEOUT_S,
                 memory: int = OASIS_MEMORY_BYTES) -> ConvertedOasis:
    """Convert a checked OASIS file to GDSII with gdstk in a child process.

    The child (``oasis_child.py``, which imports gdstk and nothing of wavefab or torch) runs
    with ``timeout`` seconds and ``memory`` bytes of address space, refuses repetitions beyond
    the flattening bounds before expanding any, and writes ``folder/converted.gds``. A child
    that crashes, hangs or runs out of memory is killed and becomes an error: the program
    itself never sees the damaged file.

    Raises:
        FileFormatError: the child refused, crashed, timed out or ran out of memory.
    """
    path = Path(path)
    folder = Path(folder)
    gds, report = folder / "converted.gds", folder / "report.json"
    limits = {"memory": int(memory), "polygons": MAX_FLAT_POLYGONS,
              "vertices": MAX_FLAT_VERTICES, "references": MAX_FLAT_REFERENCES,
              "cells": MAX_CELLS}
    child = Path(__file__).with_name("oasis_child.py")
    # One thread for the numerical libraries: their thread pools reserve address space that
    # the memory limit would otherwise spend.
    # The parent's import path, whatever put gdstk on it (a venv, the user site, PYTHONPATH);
    # never the working directory.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run(
            [sys.executable, "-s", str(child), str(path), str(gds), str(report),
             json.dumps(limits)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise LayoutFileError(path, f"the OASIS reader took longer than {timeout:g} s on this "
                              "file and was stopped; it is damaged or too large for wavefab "
                              "(export only the design's cell)") from None
    found: dict[str, object] = {}
    if report.is_file():
        try:
            found = json.loads(report.read_text())
        except (OSError, ValueError):
            found = {}
    if done.returncode == 0 and found.get("ok") and gds.is_file():
        return ConvertedOasis(gds=gds, properties=dict(found.get("properties") or {}))
    if "error" in found:
        raise LayoutFileError(path, f"{found['error']}")
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = "unknown"
        raise LayoutFileError(path, f"the OASIS reader crashed on this file (signal "
                              f"{-done.returncode}, {name}); it is damaged or uses features "
                              "wavefab does not read: export it again, or as GDSII")
    tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
    detail = f": {tail[-1][:200]}" if tail else ""
    raise LayoutFileError(path, f"the OASIS reader failed on this file (exit "
                          f"{done.returncode}{detail}); it is damaged or uses features wavefab "
                          "does not read: export it again, or as GDSII")

