"""Does the printed part classify like the design? Every fold of a finished run, three ways.

    python bench/printed_vowels.py RESULT_DIR [--data DIR] [--pitch 0.5mm] [--height 1mm]

For each fold's trained latent (kept in the run's checkpoint), the made design (thresholded and
repaired as ``wavefab run`` makes it) is scored on that fold's test and training recordings:

* in the run's own wave model (the figure ``metrics.json`` reports as ``binary_*``);
* in the other model (``scalar`` ↔ ``acoustic``): how wrong the speed-only model is about a
  printed rigid part, and how a rigid design fares as a slow medium;
* after export → STL (walls on a base plate, the run's pitch) → cross-section at mid-wall →
  rasterized at the design's pitch → re-simulated in the run's model (simulate what you print).

Prints one row per fold and the mean, with the part's size and the plate gap verdict.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from wavefab.designkit.checkpoint import load_checkpoint
from wavefab.designkit.config import fabrication_from_config, load_config
from wavefab.designkit.export import (
    Design,
    ExportSettings,
    export_design,
    import_raster,
    plate_report,
)
from wavefab.designkit.fabrication import final_design
from wavefab.designkit.problems.vowels import VowelProblem
from wavefab.designkit.processes import format_length, parse_length
from wavefab.designkit.run import build_parametrization, build_problem
from wavefab.solver import ResolutionWarning

warnings.simplefilter("ignore", ResolutionWarning)
OTHER = {"scalar": "acoustic", "acoustic": "scalar"}


def accuracies(problem, parametrization, density: np.ndarray, fold) -> tuple[float, float]:
    """(test, train) accuracy of ``density`` in ``problem``'s model."""
    with torch.no_grad():
        medium = parametrization.material(torch.from_numpy(density.astype(np.float32)))
        metrics = problem.evaluate(medium, fold)
    return metrics["test_accuracy"], metrics["train_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--data", type=Path, default=None,
                        help="recordings folder (default: the run's own)")
    parser.add_argument("--pitch", default=None,
                        help="cell size for the print (default: the run's; else 0.5mm)")
    parser.add_argument("--height", default="1mm",
                        help="wall height = plate gap (below half the shortest wavelength)")
    args = parser.parse_args()

    config = load_config(args.result / "config.yaml")
    fab = fabrication_from_config(config)
    problem = build_problem(config, args.data)
    par = build_parametrization(config, problem, fab)
    other_config = dataclasses.replace(config, physics=OTHER[config.physics])
    # the same recordings in the other wave model (not read from disk a second time)
    other = VowelProblem(problem.data, problem.geometry, readout=problem.readout,
                         split=config.data.split, physics=other_config.physics)
    other_par = build_parametrization(other_config, other, fab)
    pitch = (parse_length(args.pitch) if args.pitch else fab.pitch) or 0.5e-3
    height = parse_length(args.height)
    base = 1e-3
    loaded = load_checkpoint(args.result / "checkpoint")
    if loaded is None:
        raise SystemExit(f"{args.result}/checkpoint holds no checkpoint: the folds' designs "
                         "are gone")
    latents = {k: v for k, v in loaded[1].items() if k.startswith("fold")}
    if not latents:
        raise SystemExit(f"{args.result} has no finished fold yet: let the run end first")
    folds = problem.folds(config.training.folds, config.training.seed)
    region = par.region.numpy()
    rows, cols = region.shape
    print(f"{args.result}: trained in the {config.physics} model; pitch {format_length(pitch)}, "
          f"part {format_length(cols * pitch)} × {format_length(rows * pitch)} × "
          f"{format_length(base + height)} (walls {format_length(height)} on a "
          f"{format_length(base)} base)")
    print(f"{'fold':>4} {'own test':>9} {'train':>7} {OTHER[config.physics] + ' test':>14} "
          f"{'train':>7} {'printed test':>13} {'train':>7} {'cells off':>9}")
    table, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(latents, key=lambda k: int(k[4:])):
            k = int(name[4:])
            latent = torch.from_numpy(latents[name])
            made = final_design(par, latent, fab)[1]
            own = accuracies(problem, par, made, folds[k])
            cross = accuracies(other, other_par, made, folds[k])
            design = Design(name=f"fold{k}", binary=made, region=region,
                            min_solid_cells=fab.min_solid_cells, min_void_cells=fab.min_void_cells)
            stl = Path(tmp) / f"fold{k}.stl"
            report = export_design(design, [stl], ExportSettings(
                pitch=pitch, height=height, base=base, allow_violations=True))
            coverage = import_raster(stl, made.shape, pitch, section_z=base + height / 2)
            printed = accuracies(problem, par, coverage, folds[k])
            off = int(((coverage > 0.5) != made).sum())
            table.append((*own, *cross, *printed))
            print(f"{k:>4} {own[0]:>9.3f} {own[1]:>7.3f} {cross[0]:>14.3f} {cross[1]:>7.3f} "
                  f"{printed[0]:>13.3f} {printed[1]:>7.3f} {off:>9}", flush=True)
    mean = np.mean(table, axis=0)
    print(f"{'mean':>4} {mean[0]:>9.3f} {mean[1]:>7.3f} {mean[2]:>14.3f} {mean[3]:>7.3f} "
          f"{mean[4]:>13.3f} {mean[5]:>7.3f}")
    print(f"export DRC of the last fold: {report.drc.get('pass')}; "
          f"{time.perf_counter() - started:.0f} s")
    scale = (json.loads((args.result / "metrics.json").read_text()).get("fabrication")
             or {}).get("scale")
    if scale:
        plates = plate_report(height, scale)
        print("plates:", {k: (round(v, 6) if isinstance(v, float) else v)
                          for k, v in plates.items()})


if __name__ == "__main__":
    main()
