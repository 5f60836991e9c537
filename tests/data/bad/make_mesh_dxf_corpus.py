"""Write tests/data/bad/mesh/* and tests/data/bad/dxf/*: meshes and outlines that once crashed, or
could crash, exhaust or fool a reader (truncated, bit-flipped, crafted and foreign files).

Run from the project root to regenerate (the files are committed; this says how they were made):

    python tests/data/bad/make_mesh_dxf_corpus.py

Every file is built by hand from the formats' specifications (no mesh or CAD library), so the
bytes stay small (a few KB) and say exactly what is wrong with them.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# --- STL ---------------------------------------------------------------------------------------

# A tetrahedron, 1 mm edges along the axes, faces wound outward.
TETRA = ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
FACES = ((0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3))


def _triangles(vertices=TETRA, faces=FACES) -> list[tuple[tuple[float, ...], ...]]:
    return [tuple(vertices[i] for i in face) for face in faces]


def binary_stl(triangles=None, *, count: int | None = None, header: bytes = b"") -> bytes:
    """A binary STL: 80-byte header, uint32 triangle count, 50 bytes per triangle."""
    triangles = _triangles() if triangles is None else triangles
    body = b"".join(struct.pack("<12fH", 0, 0, 0, *(c for v in t for c in v), 0)
                    for t in triangles)
    n = len(triangles) if count is None else count
    return header.ljust(80, b" ")[:80] + struct.pack("<I", n) + body


def ascii_stl(triangles=None, fmt=repr) -> bytes:
    triangles = _triangles() if triangles is None else triangles
    lines = ["solid corpus"]
    for t in triangles:
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {' '.join(fmt(c) for c in v)}" for v in t]
        lines += ["    endloop", "  endfacet"]
    lines.append("endsolid corpus")
    return ("\n".join(lines) + "\n").encode()


# --- OBJ ---------------------------------------------------------------------------------------

def obj(vertices=TETRA, faces=None) -> bytes:
    faces = [[i + 1 for i in f] for f in FACES] if faces is None else faces
    lines = ["# corpus"] + [f"v {x} {y} {z}" for x, y, z in vertices]
    lines += ["f " + " ".join(str(i) for i in f) for f in faces]
    return ("\n".join(lines) + "\n").encode()


# --- 3MF ---------------------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" '
    'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Target="/3D/3dmodel.model" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)


def _mesh_object(oid: int) -> str:
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in TETRA)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in FACES)
    return (f'<object id="{oid}" type="model"><mesh><vertices>{vertices}</vertices>'
            f"<triangles>{triangles}</triangles></mesh></object>")


def _composite(oid: int, children: list[int]) -> str:
    parts = "".join(f'<component objectid="{c}"/>' for c in children)
    return f'<object id="{oid}" type="model"><components>{parts}</components></object>'


def model(objects: str | None = None, build: int = 1) -> str:
    objects = _mesh_object(1) if objects is None else objects
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<model unit="millimeter" xml:lang="en-US" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<resources>{objects}</resources><build><item objectid="{build}"/></build></model>'
    )


def threemf(model_xml: str | None = None, extra: dict[str, bytes] | None = None,
            compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A 3MF package: the three parts a reader needs, plus ``extra`` members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("3D/3dmodel.model", model() if model_xml is None else model_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _declare_size(package: bytes, member: str, size: int) -> bytes:
    """``package`` with the uncompressed size of ``member`` rewritten in both of its headers
    (local header offset 22, central directory offset 24): a bomb without the bulk."""
    data = bytearray(package)
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            start = at + 4
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            length = struct.unpack_from("<H", data, at + (26 if offset == 22 else 28))[0]
            if bytes(data[name_at:name_at + length]) == name:
                struct.pack_into("<I", data, at + offset, size)
    return bytes(data)


# --- DXF ---------------------------------------------------------------------------------------

def dxf(entities: str, insunits: str = "4") -> bytes:
    """A minimal ASCII DXF (R2000): a header with ``$INSUNITS``, then the entities."""
    header = f"9\n$ACADVER\n1\nAC1015\n9\n$INSUNITS\n70\n{insunits}\n"
    return (f"0\nSECTION\n2\nHEADER\n{header}0\nENDSEC\n0\nSECTION\n2\nENTITIES\n{entities}"
            "0\nENDSEC\n0\nEOF\n").encode()


def lwpolyline(points, closed: bool = True) -> str:
    """A LWPOLYLINE of ``(x, y)`` or ``(x, y, bulge)`` points, written as given (strings too)."""
    text = (f"0\nLWPOLYLINE\n100\nAcDbEntity\n8\n0\n100\nAcDbPolyline\n90\n{len(points)}\n"
            f"70\n{1 if closed else 0}\n")
    for point in points:
        text += f"10\n{point[0]}\n20\n{point[1]}\n"
        if len(point) > 2:
            text += f"42\n{point[2]}\n"
    return text


SQUARE = ((0, 0), (10, 0), (10, 10), (0, 10))


def _many_big_arcs() -> bytes:
    """A hundred closed two-vertex polylines, each two half circles (bulge 1) of radius 900 m:
    within the 1 km bound on coordinates, but ~67,000 points each at the 1 µm tolerance."""
    r = 900_000  # mm
    return dxf("".join(lwpolyline(((-r, k, 1.0), (r, k, 1.0))) for k in range(100)))


# --- the corpus --------------------------------------------------------------------------------

def _png() -> bytes:
    """A 1×1 grey PNG image: what a renamed picture looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\x80")) + chunk(b"IEND", b""))


PNG = _png()


def mesh_corpus() -> dict[str, bytes]:
    """File name (in ``mesh/``) → bytes."""
    good_stl = binary_stl()
    flipped = bytearray(threemf())
    flipped[len(flipped) // 3] ^= 0xFF
    nan = list(_triangles())
    nan[1] = ((math.nan, 0.0, 0.0), *nan[1][1:])
    bomb_levels = "".join(_composite(k, [k - 1] * 10) for k in range(2, 11))
    return {
        "empty.stl": b"",
        "truncated.stl": good_stl[: len(good_stl) - 30],
        "claims_billion.stl": binary_stl(count=10**9),
        "zero_triangles.stl": binary_stl([]),
        "nan_vertex.stl": binary_stl(nan),
        "inf_vertex_ascii.stl": ascii_stl().replace(b"vertex 1.0 0.0 0.0",
                                                    b"vertex inf 0.0 0.0", 1),
        "huge_coordinate.stl": ascii_stl(
            [((0.0, 0.0, 0.0), (1e30, 0.0, 0.0), (0.0, 1.0, 1.0)), *_triangles()]),
        "flat.stl": binary_stl([((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))]),
        "ascii_garbage.stl": b"solid corpus\n  facet normal 0 0 0\n    outer loop oops\n",
        "png_renamed.stl": PNG,
        "zip_renamed.stl": threemf(),
        "not_a_zip.3mf": b"this is a 3MF file, honest\n" * 4,
        "truncated.3mf": threemf()[:600],
        "bit_flipped.3mf": bytes(flipped),
        "no_model.3mf": _member_zip({"[Content_Types].xml": CONTENT_TYPES.encode()}),
        "dotdot_member.3mf": threemf(extra={"../evil.txt": b"escape"}),
        "absolute_member.3mf": threemf(extra={"/etc/evil.txt": b"escape"}),
        "declared_bomb.3mf": _declare_size(threemf(), "3D/3dmodel.model", 0xFFFFFFF0),
        "ratio_bomb.3mf": threemf(extra={"Metadata/padding.bin": b"\0" * (4 << 20)}),
        "bzip2_member.3mf": threemf(compression=zipfile.ZIP_BZIP2),
        "component_cycle.3mf": threemf(model(_composite(2, [3]) + _composite(3, [2]), build=2)),
        "instance_bomb.3mf": threemf(model(_mesh_object(1) + bomb_levels, build=10)),
        "no_triangles.3mf": threemf(model('<object id="1" type="model"><mesh><vertices/>'
                                          "<triangles/></mesh></object>")),
        "inf_vertex.obj": obj(((0, 0, 0), ("inf", 0, 0), (0, 1, 0), (0, 0, 1))),
        "missing_vertex.obj": obj(faces=[[1, 2, 3], [1, 2, 99]]),
        "huge_index.obj": obj(faces=[[1, 2, 3], [1, 2, 4_000_000_000]]),
        "text.obj": b"hello, this is not a mesh\n",
        "empty.obj": b"",
        "png_renamed.obj": PNG,
    }


def _member_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def dxf_corpus() -> dict[str, bytes]:
    """File name (in ``dxf/``) → bytes."""
    good = dxf(lwpolyline(SQUARE))
    return {
        "binary.dxf": b"AutoCAD Binary DXF\r\n\x1a\x00" + bytes(range(256)),
        "huge_bulge.dxf": dxf(lwpolyline(((0, 0), (10, 0, 1e300), (10, 10), (0, 10)))),
        "big_arc.dxf": dxf(lwpolyline(((0, 0), (10, 0, 1e9), (10, 10), (0, 10)))),
        "many_big_arcs.dxf": _many_big_arcs(),
        "nan_vertex.dxf": dxf(lwpolyline(((0, 0), ("nan", 0), (10, 10), (0, 10)))),
        "inf_bulge.dxf": dxf(lwpolyline(((0, 0), (10, 0, "inf"), (10, 10), (0, 10)))),
        "huge_coordinate.dxf": dxf(lwpolyline(((0, 0), (1e300, 0), (10, 10), (0, 10)))),
        "truncated.dxf": good[: len(good) // 2],
        "random_bytes.dxf": bytes((k * 151 + 7) % 256 for k in range(1024)),
        "empty.dxf": b"",
        "garbage_insunits.dxf": dxf(lwpolyline(SQUARE), insunits="metres please"),
        "unknown_insunits.dxf": dxf(lwpolyline(SQUARE), insunits="99"),
        "two_point_ring.dxf": dxf(lwpolyline(((0, 0), (10, 10)))),
        "collinear_ring.dxf": dxf(lwpolyline(((0, 0), (5, 5), (10, 10)))),
        "open_only.dxf": dxf(lwpolyline(SQUARE, closed=False)),
        "png_renamed.dxf": PNG,
        "utf16.dxf": good.decode().encode("utf-16"),
    }


def corpus() -> dict[str, bytes]:
    """Path relative to ``tests/data/bad`` → bytes."""
    return {**{f"mesh/{k}": v for k, v in mesh_corpus().items()},
            **{f"dxf/{k}": v for k, v in dxf_corpus().items()}}


if __name__ == "__main__":
    from corpus_files import write_corpus  # the script's own folder is on sys.path

    write_corpus(HERE, corpus())
