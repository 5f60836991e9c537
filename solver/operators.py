"""Finite-difference stencils on torch tensors (the reference backend's building blocks).

Arrays are ``[B, ny, nx]``; outside the grid the field is zero (the rigid wall), which makes the
second-difference operator symmetric and the first-difference one antisymmetric — the property
the hand-written adjoint of :mod:`wavefab.solver.kernels_cpu` relies on.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def pad(x: Tensor, r: int) -> Tensor:
    """Zero-pad the last two axes by ``r`` cells on every side."""
    return torch.nn.functional.pad(x, (r, r, r, r))


def shift_sum(xp: Tensor, coeffs: Sequence[float], r: int, axis: int, ny: int, nx: int) -> Tensor:
    """Apply a centred stencil along ``axis`` (−1: x, −2: y) to a padded ``[B, ny+2r, nx+2r]``."""
    out = None
    for k, c in enumerate(coeffs):
        if c == 0.0:
            continue
        off = k - r
        if axis == -1:
            term = xp[:, r:r + ny, r + off:r + off + nx]
        else:
            term = xp[:, r + off:r + off + ny, r:r + nx]
        out = c * term if out is None else out + c * term
    assert out is not None
    return out
