"""Write tests/data/bad/design/*.npz: design files that once crashed or could crash a reader.

Run from the project root to regenerate (the files are committed; this says how they were made):

    python tests/data/bad/make_design_corpus.py
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "design"


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _good() -> dict[str, np.ndarray]:
    binary = np.zeros((20, 20), bool)
    binary[5:15, 6:12] = True
    return {"binary": binary, "region": np.ones((20, 20), bool),
            "density": binary.astype(float), "min_solid_cells": np.asarray(2),
            "min_void_cells": np.asarray(2), "fold": np.asarray(0)}


def _with(**changes: np.ndarray) -> bytes:
    return _npz(**{**_good(), **changes})


def _member(name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


def _claimed_shape(shape: tuple[int, ...]) -> bytes:
    """An .npy member whose header claims ``shape`` but holds 16 bytes."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return _member("density.npy", buffer.getvalue() + b"\0" * 16)


def corpus() -> dict[str, bytes]:
    """File name → bytes."""
    good = _npz(**_good())
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    npy = io.BytesIO()
    np.save(npy, _good()["binary"])
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for k in range(100):
            archive.writestr(f"a{k}.npy", b"")
    objects = io.BytesIO()
    np.save(objects, np.array([{"x": 1}, None], dtype=object), allow_pickle=True)
    return {
        "empty.npz": b"",
        "single_npy.npz": npy.getvalue(),
        "truncated.npz": good[: len(good) // 2],
        "bit_flipped.npz": bytes(flipped),
        "not_a_zip.npz": bytes(range(256)) * 2,
        "nan_density.npz": _npz(density=np.full((20, 20), np.nan), region=np.ones((20, 20), bool)),
        "inf_filtered.npz": _with(filtered=np.full((20, 20), np.inf)),
        "string_rule.npz": _with(min_solid_cells=np.asarray("three")),
        "array_rule.npz": _with(min_void_cells=np.arange(4)),
        "nan_rule.npz": _with(min_solid_cells=np.asarray(np.nan)),
        "negative_rule.npz": _with(min_solid_cells=np.asarray(-3)),
        "huge_rule.npz": _with(min_solid_cells=np.asarray(10**12)),
        "rule_wider_than_grid.npz": _with(min_void_cells=np.asarray(21)),
        "huge_fold.npz": _with(fold=np.asarray(10**9)),
        "fractional_fold.npz": _with(fold=np.asarray(1.5)),
        "flat_binary.npz": _with(binary=np.ones(400, bool)),
        "mismatched_region.npz": _with(region=np.ones((5, 5), bool)),
        "binary_of_twos.npz": _with(binary=np.full((20, 20), 2, np.int8)),
        "claims_huge_shape.npz": _claimed_shape((10**9, 10**9)),
        "object_array.npz": _member("binary.npy", objects.getvalue()),
        "dotdot_member.npz": _member("../binary.npy", npy.getvalue()),
        "not_npy_member.npz": _member("binary.txt", b"hello"),
        "too_many_members.npz": many.getvalue(),
        "no_design.npz": _npz(region=np.ones((20, 20), bool)),
    }


if __name__ == "__main__":
    from corpus_files import write_corpus  # the script's own folder is on sys.path

    write_corpus(OUT, corpus())
