"""How many threads the CPU kernels use.

Batch items run on separate threads. On machines whose cores share one physical core, or are
time-sliced by a hypervisor, more threads can run slower, so by default the first kernel call
of a process times a small problem on one thread and on all of them and keeps the faster. The
kernels give identical numbers for any thread count.

The backends in :mod:`wavefab.solver.backends` call :func:`kernel_threads` before each kernel;
the trial runs the scalar kernel of :mod:`wavefab.solver.backends.kernels_cpu` (imported only
then, so this module stays importable without compiling anything).
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from .errors import SolverTypeError, SolverValueError, as_int

log = logging.getLogger(__name__)

_THREADS: int | None = None


def set_num_threads(threads: int | None) -> None:
    """Set the number of threads the CPU kernels use (``None``: measure and pick, the default).

    The environment variable ``WAVEFAB_THREADS`` sets the same at start-up.

    Raises:
        SolverValueError: for a count that is not a positive integer.
    """
    import numba

    global _THREADS
    if threads is not None:
        try:
            count = as_int("threads", threads)
        except SolverTypeError:
            count = 0
        if count < 1:
            raise SolverValueError(f"threads must be a positive integer or None, got {threads!r}")
        threads = count
    _THREADS = None if threads is None else min(threads, numba.config.NUMBA_NUM_THREADS)


def kernel_threads() -> int:
    """Threads the CPU kernels run with; measured once per process unless set."""
    global _THREADS
    if _THREADS is None:
        env = os.environ.get("WAVEFAB_THREADS")
        if env:
            if not env.strip().isdigit() or int(env) < 1:
                raise SolverValueError(
                    f"WAVEFAB_THREADS must be a positive integer, got {env!r}; unset it to let "
                    f"wavefab choose"
                )
            set_num_threads(int(env))
        else:
            _THREADS = _calibrate_threads()
    assert _THREADS is not None
    return _THREADS


def _calibrate_threads() -> int:
    """Time the scalar kernel on one thread and on all of them; return the faster count."""
    import numba

    from .backends import kernels_cpu as kc
    from .operators import stencils

    most = numba.config.NUMBA_NUM_THREADS
    if most <= 1:
        return 1
    batch, n, steps = most * 2, 96, 40
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
    for threads in (1, most, 1, most):
        numba.set_num_threads(threads)
        t0 = time.perf_counter()
        kc.forward_segment(*args)
        elapsed = time.perf_counter() - t0
        timings[threads] = min(timings.get(threads, elapsed), elapsed)
    numba.set_num_threads(most)
    best = min(timings, key=timings.__getitem__)
    log.info("CPU kernel threads: %d (trial seconds %s)", best, timings)
    return best
