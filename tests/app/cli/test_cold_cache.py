"""A cold numba cache gives the same design as a warm one, bit for bit.

numba compiles the CPU kernels on first use and loads them from its cache afterwards. With
fastmath the two builds summed in different orders, so the first run on a fresh machine gave a
different design from every later run (issue 18). Each run here is its own process with its
own ``NUMBA_CACHE_DIR``: the first compiles everything, the second loads it all from disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wavefab.designkit.npzfile import read_npz

pytestmark = pytest.mark.slow

TINY = Path(__file__).resolve().parents[2] / "data" / "sweep" / "tiny_lens.yaml"


def _run(out: Path, cache: Path) -> dict[str, np.ndarray]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "-m", "wavefab.app.cli", "run", str(TINY), "--out", str(out)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=900)
    return read_npz(out / "design.npz")


def test_cold_and_warm_numba_cache_give_the_same_design(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    cold = _run(tmp_path / "cold", cache)
    assert any(cache.rglob("*.nbi")), "the first run should have filled the numba cache"
    warm = _run(tmp_path / "warm", cache)
    assert sorted(cold) == sorted(warm)
    for key, array in cold.items():
        np.testing.assert_array_equal(warm[key], array, err_msg=key)
