"""One threading policy for torch and the kernels: passive waiting, both pools set together, and
the caller's torch thread count never changed behind its back.

Each policy check runs in a fresh interpreter: OpenMP reads its environment once per process,
and numba's first parallel launch is where it used to reset torch's thread count.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from wavefab.solver import set_num_threads
from wavefab.solver.threads import kernel_section, kernel_threads

SMALL_RUN = """
import torch
from wavefab.solver import DampingLayer, Grid, PointProbe, PointSource, propagate, ricker
grid = Grid(shape=(24, 24), h=1.0, dt=0.5)
speed = torch.full((2, 24, 24), 1.0, requires_grad=True)
wave = ricker(40, 0.5, 0.1).expand(2, 40)
out = propagate(speed, wave, grid=grid, sources=[PointSource(12, 6)],
                probes=[PointProbe(12, 18)], boundary=DampingLayer(4), backend="numba")
out.probes.sum().backward()
"""


def _python(code: str, **env: str | None) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in env}
    environment.update({k: v for k, v in env.items() if v is not None})
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_programs_wait_passively_and_the_api_leaves_the_policy_alone():
    code = "import wavefab.app, os; print(os.environ['OMP_WAIT_POLICY'])"
    assert _python(code, OMP_WAIT_POLICY=None) == "PASSIVE"
    assert _python(code, OMP_WAIT_POLICY="ACTIVE") == "ACTIVE"
    code = ("import wavefab.solver, wavefab.designkit.run, os\n"
            "print(os.environ.get('OMP_WAIT_POLICY', 'unset'))")
    assert _python(code, OMP_WAIT_POLICY=None) == "unset"


def test_a_propagation_keeps_the_callers_torch_thread_count():
    # 3: neither the kernels' count nor the one a section runs torch on
    code = "import torch\ntorch.set_num_threads(3)\n" + SMALL_RUN + \
        "print(torch.get_num_threads())"
    assert _python(code, WAVEFAB_THREADS=None) == "3"


def test_the_environment_sets_both_pools_at_import():
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: both pools have one thread anyway")
    code = ("import torch, wavefab.solver\nfrom wavefab.solver.threads import kernel_threads\n"
            "print(torch.get_num_threads(), kernel_threads())")
    assert _python(code, WAVEFAB_THREADS="1") == "1 1"


def test_set_num_threads_sets_both_pools_and_a_section_runs_torch_on_one():
    torch_before, kernels_before = torch.get_num_threads(), kernel_threads()
    try:
        set_num_threads(1)
        assert torch.get_num_threads() == 1 and kernel_threads() == 1
        set_num_threads(2)
        assert torch.get_num_threads() == 2
        with kernel_section():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        set_num_threads(kernels_before)
        torch.set_num_threads(torch_before)


@pytest.mark.parametrize(("one_thread_speedup", "expected"), [(1.1, "all"), (1.5, 1)])
def test_calibration_keeps_all_cores_unless_one_thread_is_clearly_faster(
        monkeypatch, one_thread_speedup, expected):
    """A trial within the noise keeps every core; one clearly faster thread (a busy machine)
    wins. The trials are simulated: each takes a fixed time per thread count."""
    import time

    import numba

    from wavefab.solver import threads
    from wavefab.solver.backends import kernels_cpu

    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("needs at least two CPUs")
    chosen = {"count": most}
    monkeypatch.setattr(numba, "set_num_threads", lambda n: chosen.update(count=n))
    clock = {"now": 0.0}
    monkeypatch.setattr(time, "perf_counter", lambda: clock["now"])

    def trial(*_args):
        clock["now"] += 1.0 if chosen["count"] == 1 else one_thread_speedup

    monkeypatch.setattr(kernels_cpu, "forward_segment", trial)
    assert threads._calibrate_threads() == (most if expected == "all" else expected)
