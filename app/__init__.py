"""The user-facing front ends: the ``wavefab`` CLI and (later) the Qt desktop GUI."""

import os as _os

# The CLI and the GUI make OpenMP threads wait passively (sleep, not spin) unless the user chose:
# a spinning pool starves the other processes of a busy machine, and they starve it. Set before
# torch loads its OpenMP runtime, which reads it once. Only the programs set it: in a script it
# would slow the user's own fine-grained torch code (4x for a per-step torch loop, measured), so
# the Python API leaves it alone; see wavefab.solver.threads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
