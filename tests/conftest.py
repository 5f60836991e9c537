"""Shared pytest setup: offscreen Qt, and skipping GPU tests where there is no CUDA."""

from __future__ import annotations

import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
# The designer keeps recent files and autosaves per user: never in the real home during tests.
_HOME = tempfile.mkdtemp(prefix="wavefab-test-home-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA; none is available on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def lens_fab_result(tmp_path_factory: pytest.TempPathFactory):
    """A results folder of assets/examples/lens_fab.yaml trained for 3 epochs (≈ 15 s).

    A real, short fabrication-constrained run (SLA rules at 0.1 mm pitch) shared by the export,
    import and verification tests; treat it as read-only.
    """
    from pathlib import Path

    from wavefab.designkit.config import load_config
    from wavefab.designkit.run import run

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("lens_fab")
    config = load_config(root / "assets/examples/lens_fab.yaml",
                         ["training.epochs=3", "training.beta_schedule=[[0, 8.0], [2, .inf]]"])
    for _ in run(config, out):
        pass
    return out


@pytest.fixture(scope="session")
def tiny_lens_text() -> str:
    """The text of ``tests/data/sweep/tiny_lens.yaml``: the base configuration of sweep tests."""
    from pathlib import Path

    return (Path(__file__).parent / "data" / "sweep" / "tiny_lens.yaml").read_text()
