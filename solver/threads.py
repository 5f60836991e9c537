"""How many threads the CPU kernels and torch use, and how they wait.

One policy for both pools (torch and numba's ``omp`` layer share torch's OpenMP runtime):

* Inside a backend's :func:`kernel_section` the fused kernels get :func:`kernel_threads`
  threads and torch runs the small operations between them on the calling thread, so the pool
  is woken once per segment, not once per tensor operation, and spins only that often. With two
  other busy processes on 2 cores this took P1 forward+backward from 0.48x to 0.9-1.1x of what
  ``OMP_WAIT_POLICY=PASSIVE`` reaches, whatever the policy.
* The CLI and the GUI (:mod:`wavefab.app`) also make threads wait passively
  (``OMP_WAIT_POLICY=PASSIVE`` unless the environment names a policy). The Python API leaves
  the policy to the user: passive waiting made a per-step torch loop 4x slower on a quiet
  machine (deepwave 6x), which a library must not impose on its caller's other code.
* :func:`set_num_threads` and ``WAVEFAB_THREADS`` set both torch's intra-op threads and the
  kernels' threads. Without either, the kernels time a small problem on one thread and on all
  of them once per process and keep the faster (machines whose cores share one physical core,
  or are time-sliced by a hypervisor, can run slower on more threads).

The kernels give identical numbers for any thread count (each batch item is one thread's).
The trial runs the scalar kernel of :mod:`wavefab.solver.backends.kernels_cpu` (imported only
then, so this module stays importable without compiling anything).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator

import numpy as np

from .errors import SolverTypeError, SolverValueError, as_int

log = logging.getLogger(__name__)

_THREADS: int | None = None


def set_num_threads(threads: int | None) -> None:
    """Set the threads of the CPU kernels and of torch (``None``: the kernels measure and pick).

    The environment variable ``WAVEFAB_THREADS`` sets the same when :mod:`wavefab.solver` is
    imported. ``None`` leaves torch's count as it is.

    Raises:
        SolverValueError: for a count that is not a positive integer.
    """
    import numba
    import torch

    global _THREADS
    if threads is not None:
        try:
            count = as_int("threads", threads)
        except SolverTypeError:
            count = 0
        if count < 1:
            raise SolverValueError(f"threads must be a positive integer or None, got {threads!r}")
        threads = count
        torch.set_num_threads(threads)
    _THREADS = None if threads is None else min(threads, numba.config.NUMBA_NUM_THREADS)


def apply_environment() -> None:
    """Apply ``WAVEFAB_THREADS`` to both pools now, if it is set and valid.

    An invalid one is left for the first kernel call to report, naming the variable and the fix.
    """
    try:
        threads = _environment_threads()
    except SolverValueError:
        return
    if threads is not None:
        set_num_threads(threads)


def _environment_threads() -> int | None:
    """The count ``WAVEFAB_THREADS`` names (None: unset)."""
    env = os.environ.get("WAVEFAB_THREADS")
    if not env:
        return None
    if not env.strip().isdigit() or int(env) < 1:
        raise SolverValueError(f"WAVEFAB_THREADS must be a positive integer, got {env!r}; unset "
                               "it to let wavefab choose")
    return int(env)


def kernel_threads() -> int:
    """Threads the CPU kernels run with; measured once per process unless set."""
    global _THREADS
    if _THREADS is None:
        threads = _environment_threads()
        if threads is not None:
            set_num_threads(threads)
        else:
            _THREADS = _calibrate_threads()
    assert _THREADS is not None
    return _THREADS


#: How much faster one thread must be than all of them for the calibration to pick it.
SINGLE_THREAD_MARGIN = 1.25


def _calibrate_threads() -> int:
    """Time the scalar kernel on one thread and on all of them; return the faster count."""
    import numba

    from .backends import kernels_cpu as kc
    from .operators import stencils

    most = numba.config.NUMBA_NUM_THREADS
    if most <= 1:
        return 1
    # ~3 ms a trial: long enough that one scheduler hiccup does not decide it (at 40 steps,
    # 0.6 ms, one process in three on a quiet 2-core machine picked a single thread)
    batch, n, steps = most * 2, 96, 200
    dt = np.dtype(np.float32)
    u = np.zeros((batch, n + 2 * kc.H, n + 2 * kc.H), dt)
    u[:, n // 2, n // 2] = 1
    p = np.zeros_like(u)
    coef = np.full((1, n, n), 0.2, dt)
    none_f = np.zeros((batch, 1, 1), dt)
    prof = np.zeros(n + 2 * kc.H, dt)
    c1, c2 = stencils(2, dt)
    args = (u, p, none_f, none_f, none_f, none_f, none_f, none_f, coef + 1.8, coef - 1.2, coef,
            np.zeros(n, bool), 0, 0, prof, prof, prof, prof, prof, prof, False, 2, c1, c2,
            np.zeros((batch, steps, 0), dt), np.zeros(0, np.int64), np.zeros(0, np.int64),
            np.zeros((batch, steps, 0), dt), np.zeros(0, np.int64), np.zeros(0, np.int64),
            False, np.zeros((batch, 1, 1, 1), dt), False, np.zeros((batch, 1, 1, 1), dt), 0, 0,
            np.zeros((batch, 0, 1, 1), dt))
    # the kernel's positional arguments, in its order: state, coefficients, layout, PML profiles,
    # stencils, sources/probes (none), stores (none), snapshots (none)
    timings = {}
    for threads in (1, most, 1, most, 1, most):
        numba.set_num_threads(threads)
        t0 = time.perf_counter()
        kc.forward_segment(*args)
        elapsed = time.perf_counter() - t0
        timings[threads] = min(timings.get(threads, elapsed), elapsed)
    numba.set_num_threads(most)
    # all cores unless one thread is clearly faster (a machine busy with other work)
    best = 1 if timings[1] * SINGLE_THREAD_MARGIN < timings[most] else most
    log.info("CPU kernel threads: %d (trial seconds %s)", best, timings)
    return best


@contextlib.contextmanager
def kernel_section() -> Iterator[None]:
    """Run a backend's fused kernels, and the small torch operations between them, on one pool.

    torch and numba's ``omp`` threading layer share one OpenMP runtime (torch's ``libgomp``,
    loaded globally). Inside a section the kernels get :func:`kernel_threads` threads and the
    torch operations between them run on the calling thread: each is a few hundred microseconds
    of elementwise work, where waking the pool costs more than it saves, and every pool wake-up
    leaves threads spinning that a busy machine's other processes need. The caller's torch thread
    count is restored on exit (numba's first parallel launch would otherwise reset it). Use it
    as ``with kernel_section():`` or as a decorator, ``@kernel_section()``.
    """
    import numba
    import torch

    saved = torch.get_num_threads()
    numba.set_num_threads(kernel_threads())
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)

