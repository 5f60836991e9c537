"""Convert one OASIS file to GDSII with gdstk, alone in a child process.

Run by :func:`wavefab.designkit.export.gdsii.oasis_to_gds` as a script
(``python -I oasis_child.py SOURCE TARGET REPORT LIMITS``), never imported by wavefab: gdstk's
OASIS reader crashes on some damaged files, and here a crash ends only this process. It imports
gdstk and the standard library, nothing of wavefab (nor torch), so it starts in well under a
second. Before anything is expanded it caps its own address space (``LIMITS["memory"]``, bytes)
and refuses repetitions beyond the flattening bounds, since writing GDSII expands an OASIS
repetition into one element per copy.

Writes ``REPORT`` as JSON: ``{"ok": true, "properties": {cell: [[name, value], …]}}`` (the cell
properties GDSII cannot hold), or ``{"error": message}`` with exit status 3.
"""

from __future__ import annotations

import json
import sys


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: the parent's timeout still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file


def _copies(repetition: object) -> int:
    """The number of copies a repetition places (1 without one).

    Computed from its counts, so that a product past 64 bits cannot wrap.
    """
    columns, rows = getattr(repetition, "columns", None), getattr(repetition, "rows", None)
    if columns is not None and rows is not None:
        return max(int(columns), 1) * max(int(rows), 1)
    size = int(getattr(repetition, "size", 0))
    return max(size, 1)


def _value(value: object) -> object:
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", errors="replace")
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def _convert(source: str, target: str, limits: dict[str, int]) -> dict[str, object]:
    import gdstk

    try:
        lib = gdstk.read_oas(source)
    except MemoryError:
        return {"error": "the OASIS reader ran out of memory on this file; it is damaged or "
                         "too large for wavefab (export only the design's cell)"}
    except Exception as exc:  # gdstk raises bare RuntimeError/OSError with C-level text
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        return {"error": f"gdstk cannot read it as OASIS ({text}); it is damaged: export it "
                         "again, or as GDSII"}
    cells = lib.cells
    if len(cells) > limits["cells"]:
        return {"error": f"the library has {len(cells):,} cells, above the "
                         f"{limits['cells']:,} wavefab reads; export only the design's cell"}
    properties: dict[str, list[list[object]]] = {}
    for cell in cells:
        if not isinstance(cell, gdstk.Cell):
            continue
        shapes = vertices = placed = 0
        for polygon in cell.polygons:
            copies = _copies(polygon.repetition)
            shapes += copies
            vertices += copies * len(polygon.points)
        for path in (*cell.paths,):
            copies = _copies(path.repetition)
            shapes += copies
            vertices += copies * 2 * len(path.spine())
        for label in cell.labels:
            shapes += _copies(label.repetition)
        for reference in cell.references:
            placed += _copies(reference.repetition)
        for count, key, what in ((shapes, "polygons", "shapes"), (vertices, "vertices",
                                 "vertices"), (placed, "references", "cell placements")):
            if count > limits[key]:
                return {"error": f"cell {cell.name!r} repeats its elements into {count:,} "
                                 f"{what}, above the {limits[key]:,} wavefab reads; export "
                                 "only the design's cell, or a smaller array"}
        kept = [[entry[0], *map(_value, entry[1:])] for entry in cell.properties
                if len(entry) >= 2 and isinstance(entry[0], str)]
        if kept:
            properties[cell.name] = kept
    # 8190 points: GDSII's limit per boundary; larger polygons are fractured into pieces.
    lib.write_gds(target, max_points=8190)
    return {"ok": True, "properties": properties}


def main(argv: list[str]) -> int:
    """Convert ``argv[1]`` (OASIS) to ``argv[2]`` (GDSII); report to ``argv[3]``."""
    source, target, report, limits_text = argv[1:5]
    limits = json.loads(limits_text)
    _limit_memory(int(limits["memory"]))
    try:
        found = _convert(source, target, limits)
    except MemoryError:
        found = {"error": "the OASIS reader ran out of memory on this file; it is damaged or "
                          "too large for wavefab (export only the design's cell)"}
    with open(report, "w", encoding="utf-8") as fh:
        json.dump(found, fh)
    return 0 if found.get("ok") else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
