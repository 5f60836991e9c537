"""Speed of the fabrication chain at 400×400: filters (forward + backward) and the DRC.

Run from the project root::

    python bench/fabrication.py

Each line: wavefab's time next to a reference doing the same work with scipy
(``scipy.ndimage.convolve`` for the filter, forward only — it has no backward;
``scipy.ndimage.binary_opening`` per disc size for the DRC's openings). Best of 5 runs.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from timing import best

from wavefab.designkit.fab import drc
from wavefab.designkit.parametrization.filters import DensityFilter
from wavefab.designkit.parametrization.projection import smoothed_projection


def main() -> None:
    n = 400
    rng = np.random.default_rng(0)
    region = torch.zeros(n, n, dtype=torch.bool)
    region[20:-20, 20:-20] = True
    x = torch.rand(n, n, requires_grad=True)
    print(f"filters on {n}×{n} (design region {n - 40}×{n - 40}), float32, seconds:")
    print(f"{'filter':<22}{'wavefab fwd+bwd':>17}{'scipy fwd only':>16}")
    arr = x.detach().numpy().astype(np.float64)
    mask = region.numpy().astype(np.float64)
    for kind, radius in (("conic", 2.0), ("conic", 5.0), ("conic", 12.0), ("gaussian", 3.0)):
        filt = DensityFilter(kind, radius)
        kernel = filt.kernel(torch.float64).numpy()

        def ours(filt=filt):
            y = filt(x, region)
            y.sum().backward()

        def reference(kernel=kernel):
            ndimage.convolve(arr * mask, kernel, mode="constant") / np.maximum(
                ndimage.convolve(mask, kernel, mode="constant"), 1e-30)

        name = f"{kind} r={radius:g}"
        print(f"{name:<22}{best(ours):>17.4f}{best(reference):>16.4f}")

    y = torch.rand(n, n, requires_grad=True)

    def ssp():
        smoothed_projection(y, float("inf")).sum().backward()

    print(f"smoothed projection fwd+bwd: {best(ssp):.4f} s")

    noise = ndimage.gaussian_filter(rng.random((n, n)), 4.0)
    design = noise > np.median(noise)
    for rule in (4, 8):
        t_check = best(lambda rule=rule: drc.check(design, rule), repeats=2)
        cap = 2 * rule + 1

        def reference(rule=rule, cap=cap):
            for d in range(1, cap + 1):
                ndimage.binary_opening(design, structure=drc.disc(d))
                ndimage.binary_opening(~design, structure=drc.disc(d))

        t_ref = best(reference, repeats=2)
        print(f"DRC rule {rule} (sizes 1..{cap}, solid and void): wavefab {t_check:.3f} s, "
              f"scipy openings alone {t_ref:.3f} s")


if __name__ == "__main__":
    main()
