"""The user-facing front ends: the ``wavefab`` CLI and (later) the Qt desktop GUI."""

import os as _os

# OpenMP threads that wait passively (sleep, not spin) for work, unless the user chose: a spinning
# pool starves the other processes of a busy machine, and they starve it (measured 2x slower).
# Set before torch loads its OpenMP runtime, which reads it once; see wavefab.solver.threads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
