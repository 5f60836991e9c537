"""Fixtures of the CLI tests: checks that what a killed or failed command left is whole."""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from wavefab.designkit.npzfile import read_npz
from wavefab.designkit.optimize.checkpoint import load_checkpoint
from wavefab.designkit.yamlfile import read_yaml


@pytest.fixture
def assert_complete() -> Callable[[Path], int]:
    """A check that every file under a folder, but hidden temporaries, is whole."""
    return _assert_complete


def _assert_complete(folder: Path) -> int:
    """Every file under ``folder`` whose name is not a hidden temporary is whole; how many."""
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        count += 1
        suffix = path.suffix
        if suffix == ".yaml":
            read_yaml(path)
        elif suffix == ".npz":
            if path.parent.name != "checkpoint":
                read_npz(path)
        elif suffix == ".json":
            json.loads(path.read_text())
        elif suffix == ".csv":
            rows = list(csv.reader(path.read_text().splitlines()))
            assert rows and all(len(r) == len(rows[0]) for r in rows), path
        elif suffix == ".png":
            assert path.read_bytes().endswith(b"IEND\xaeB`\x82"), path
        elif suffix in (".gds", ".oas"):
            from wavefab.designkit.export.layout import read_layout

            assert not read_layout(path).geometry.is_empty, path
        elif suffix in (".stl", ".3mf", ".obj"):
            from wavefab.designkit.export.meshes import read_mesh

            assert len(read_mesh(path).faces), path
    checkpoint = folder / "checkpoint"
    if (checkpoint / "checkpoint.json").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert load_checkpoint(checkpoint) is not None
    return count
