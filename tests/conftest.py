"""Shared pytest setup: offscreen Qt, and skipping GPU tests where there is no CUDA."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA; none is available on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
