"""Finite-difference stencils shared by every propagator and backend.

Two discretizations of the Laplacian live here, each with its stencil weights and its stability
bound:

* centred differences (the scalar model): :func:`stencils`, and in torch ops :func:`pad` and
  :func:`shift_sum` (the torch backend's building blocks);
* the staggered flux form ``D⁻(1/ρ)D⁺`` (acoustics): :data:`STAGGERED`, the face values
  :func:`face_mean` and the medium's stable step :func:`stable_step`.

Arrays are ``[B, ny, nx]``; outside the grid the field is zero (the rigid wall), which makes the
second-difference operator symmetric and the first-difference one antisymmetric — the property
the hand-written adjoints in :mod:`wavefab.solver.backends` rely on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

#: Staggered first-derivative weights: offsets ½, 3/2, … from the face.
STAGGERED = {2: (1.0,), 4: (9.0 / 8.0, -1.0 / 24.0)}
#: Largest stable Courant number ``c·dt/h`` of the staggered scheme in 2D.
ACOUSTIC_CFL = {2: 1.0 / math.sqrt(2.0), 4: 1.0 / (math.sqrt(2.0) * (9.0 / 8.0 + 1.0 / 24.0))}


def stencils(order: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Centred first- and second-difference weights (unscaled by h) for offsets −2 … 2.

    The 2nd-order weights are zero-padded to the 4th-order radius 2, the halo the CPU kernels
    are written for.

    Args:
        order: spatial order, 2 or 4.
        dtype: dtype of the returned arrays.

    Returns:
        ``(c1, c2)``, two arrays of length 5.
    """
    if order == 2:
        c1 = [0.0, -0.5, 0.0, 0.5, 0.0]
        c2 = [0.0, 1.0, -2.0, 1.0, 0.0]
    else:
        c1 = [1 / 12, -8 / 12, 0.0, 8 / 12, -1 / 12]
        c2 = [-1 / 12, 16 / 12, -30 / 12, 16 / 12, -1 / 12]
    return np.asarray(c1, dtype=dtype), np.asarray(c2, dtype=dtype)


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


def face_mean(inv_density: Tensor, axis: int, reach: int) -> Tensor:
    """Harmonic mean of ``1/ρ`` across every face along ``axis`` (−1: x, −2: y).

    The grid is extended by ``reach`` cells of its edge values on each side, so there are
    ``n + 2·reach − 1`` faces, face ``k`` between cells ``k − reach`` and ``k − reach + 1``.
    """
    pad = (reach, reach, 0, 0) if axis == -1 else (0, 0, reach, reach)
    b = torch.nn.functional.pad(inv_density, pad, mode="replicate")
    n = b.shape[axis]
    left, right = b.narrow(axis, 0, n - 1), b.narrow(axis, 1, n - 1)
    return 2.0 * left * right / (left + right)


def stable_step(bulk_modulus: Tensor, face_x: Tensor, face_y: Tensor, order: int,
                h: float) -> float:
    """The largest stable time step of the leapfrog scheme in this medium.

    The semi-discrete operator ``K·D⁻(1/ρ)D⁺`` has real eigenvalues (it is symmetric in the
    ``1/K``-weighted inner product); Gershgorin's bound on its largest one, ``λ``, gives
    ``dt ≤ 2/√λ`` — exactly the textbook limit in a homogeneous medium, and safe at any
    contrast (a stiff cell next to a soft face is what the bound catches).
    """
    weights = STAGGERED[order]
    reach, spread = len(weights), 2.0 * sum(abs(w) for w in weights)
    with torch.no_grad():
        rows = torch.zeros_like(bulk_modulus.expand(
            max(bulk_modulus.shape[0], face_x.shape[0]), *bulk_modulus.shape[1:]))
        for faces, axis, n in ((face_x, -1, bulk_modulus.shape[-1]),
                               (face_y, -2, bulk_modulus.shape[-2])):
            for m, w in enumerate(weights):
                rows = rows + abs(w) * (faces.narrow(axis, reach + m, n)
                                        + faces.narrow(axis, reach - 1 - m, n))
        largest = float((bulk_modulus * rows).max()) * spread / (h * h)
    return 2.0 / math.sqrt(largest)
