"""Does the printed part classify like the design? Every fold of a finished run, many ways.

    python bench/printed_vowels.py RESULT_DIR [--data DIR] [--pitch 0.5mm] [--height 1mm]
                                   [--repair-choice best] [--refine 2] [--shift 1]

For each fold's trained latent (kept in the run's checkpoint), the made design (thresholded and
repaired as ``wavefab run`` made it, or with ``--repair-choice best``: the repair that scores
best on the fold's training recordings) is scored on that fold's test and training recordings:

* in the run's own wave model (the figure ``metrics.json`` reports as ``binary_*``);
* in the other models (``scalar``, and ``acoustic`` with either solid law at the run's
  contrast: ``density`` = a dense slow solid, ``impedance`` = a stiff one at the fluid's speed):
  how wrong the speed-only model is about a printed rigid part, how a rigid design fares as a
  slow medium, and whether a rigid part's score depends on which stand-in for plastic it had;
* after export → STL (walls on a base plate, the run's pitch) → cross-section at mid-wall →
  rasterized at the design's pitch → re-simulated in the run's model (simulate what you print);
* with ``--refine K``: in the run's model on a grid K times finer in space and time (K³ the
  cost): whether the figure is the part's or the grid's (numerical dispersion);
* with ``--shift N``: with every edge of the part moved N cells out (walls thicker: an
  over-extruding printer) and N cells in (thinner): the print tolerance the figure needs.

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

from wavefab.designkit.config import fabrication_from_config, load_config
from wavefab.designkit.export import (
    Design,
    ExportSettings,
    export_design,
    import_raster,
    plate_report,
)
from wavefab.designkit.optimize import choose_made_design, made_design
from wavefab.designkit.optimize.checkpoint import load_checkpoint
from wavefab.designkit.problems.refine import check_factor
from wavefab.designkit.problems.vowels import VowelProblem
from wavefab.designkit.run import build_parametrization, build_problem
from wavefab.designkit.units import format_length, parse_length
from wavefab.solver import ResolutionWarning

warnings.simplefilter("ignore", ResolutionWarning)
MODELS = (("scalar", "density"), ("acoustic", "density"), ("acoustic", "impedance"))


def model_name(physics: str, interpolation: str) -> str:
    """A column label: ``scalar`` or the acoustic solid law."""
    return "scalar" if physics == "scalar" else f"{interpolation}-law"


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
    parser.add_argument("--repair-choice", choices=("fewest", "best"), default=None,
                        help="choose the repair again (default: the one the run chose)")
    parser.add_argument("--refine", type=int, default=1, metavar="K",
                        help="also score the part on a grid K times finer (default 1: not)")
    parser.add_argument("--shift", type=int, default=0, metavar="N",
                        help="also score the part with its edges N cells out and in (0: not)")
    args = parser.parse_args()

    config = load_config(args.result / "config.yaml")
    fab = fabrication_from_config(config)
    rechoose = args.repair_choice is not None and args.repair_choice != fab.repair_choice
    if args.repair_choice is not None:
        fab = dataclasses.replace(fab, repair_choice=args.repair_choice)
    problem = build_problem(config, args.data)
    par = build_parametrization(config, problem, fab)
    own = (config.physics, config.acoustic.interpolation if config.physics == "acoustic"
           else "density")
    others = []  # (label, problem, parametrization) of the models the run was not trained in
    for physics, interpolation in MODELS:
        if (physics, interpolation) == own:
            continue
        other_config = dataclasses.replace(config, physics=physics, acoustic=dataclasses.replace(
            config.acoustic, interpolation=interpolation, contrast_schedule=()))
        # the same recordings in the other wave model (not read from disk a second time)
        other = VowelProblem(problem.data, problem.geometry, readout=problem.readout,
                             split=config.data.split, physics=physics)
        others.append((model_name(physics, interpolation), other,
                       build_parametrization(other_config, other, fab)))
    fine = problem.refined(args.refine) if check_factor(args.refine) > 1 else None
    pitch = (parse_length(args.pitch) if args.pitch else fab.pitch) or 0.5e-3
    height = parse_length(args.height)
    base = 1e-3
    loaded = load_checkpoint(args.result / "checkpoint")
    if loaded is None:
        raise SystemExit(f"{args.result}/checkpoint holds no checkpoint: the folds' designs "
                         "are gone")
    latents = {k: v for k, v in loaded[1].items() if k.startswith("fold")}
    finals = loaded[0].get("finals", {})
    if not latents:
        raise SystemExit(f"{args.result} has no finished fold yet: let the run end first")
    folds = problem.folds(config.training.folds, config.training.seed)
    region = par.region.numpy()
    rows, cols = region.shape
    print(f"{args.result}: trained in the {config.physics} model; pitch {format_length(pitch)}, "
          f"part {format_length(cols * pitch)} × {format_length(rows * pitch)} × "
          f"{format_length(base + height)} (walls {format_length(height)} on a "
          f"{format_length(base)} base)")
    print(f"(own model: {model_name(*own)}; contrast {config.acoustic.contrast:g} in the "
          "acoustic ones)")
    labels = ["own", *(label for label, _, _ in others), "printed"]
    labels += [f"{args.refine}x grid"] if fine else []
    labels += [f"+{args.shift} cell", f"-{args.shift} cell"] if args.shift > 0 else []
    print(f"{'fold':>4}" + "".join(f" {label + ' test':>{_width(label)}} {'train':>7}"
                                   for label in labels) + f" {'cells off':>9}")
    table, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(latents, key=lambda k: int(k[4:])):
            k = int(name[4:])
            latent = torch.from_numpy(latents[name])
            if rechoose:  # as a run with this repair_choice would (training examples only)
                made = choose_made_design(problem, par, fab, latent, folds[k])[1]
            else:
                chosen = int(finals.get(name, {}).get("repair_candidate", 0))
                made = made_design(par, latent, fab, chosen)[1]
            scores = [accuracies(problem, par, made, folds[k])]
            scores += [accuracies(other, other_par, made, folds[k])
                       for _, other, other_par in others]
            design = Design(name=f"fold{k}", binary=made, region=region,
                            min_solid_cells=fab.min_solid_cells, min_void_cells=fab.min_void_cells)
            stl = Path(tmp) / f"fold{k}.stl"
            report = export_design(design, [stl], ExportSettings(
                pitch=pitch, height=height, base=base, allow_violations=True))
            coverage = import_raster(stl, made.shape, pitch, section_z=base + height / 2)
            printed = accuracies(problem, par, coverage, folds[k])
            off = int(((coverage > 0.5) != made).sum())
            scores.append(printed)
            if fine is not None:
                scores.append(accuracies(fine, par, made, folds[k]))
            if args.shift > 0:
                for moved in shifted(made, region, args.shift):
                    scores.append(accuracies(problem, par, moved, folds[k]))
            table.append([x for pair in scores for x in pair])
            print(f"{k:>4}" + _row(table[-1], labels) + f" {off:>9}", flush=True)
    print("mean" + _row(np.mean(table, axis=0), labels))
    print(f"export DRC of the last fold: {report.drc.get('pass')}; "
          f"{time.perf_counter() - started:.0f} s")
    metrics = args.result / "metrics.json"  # written when the last fold ends
    scale = (json.loads(metrics.read_text()).get("fabrication") or {}).get("scale") \
        if metrics.exists() else None
    if scale:
        plates = plate_report(height, scale, pitch)
        print("plates:", {k: (round(v, 6) if isinstance(v, float) else v)
                          for k, v in plates.items()})


def shifted(made: np.ndarray, region: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """``made`` with every edge moved ``cells`` out (inside the region) and ``cells`` in."""
    from scipy import ndimage

    cross = ndimage.generate_binary_structure(2, 1)  # one cell across an edge, not diagonally
    thicker = ndimage.binary_dilation(made, cross, iterations=cells) & region
    thinner = ndimage.binary_erosion(made, cross, iterations=cells)
    return thicker, thinner


def _width(label: str) -> int:
    return len(label) + 6


def _row(values, labels: list[str]) -> str:
    """Test/train pairs under the header's columns."""
    return "".join(f" {test:>{_width(label)}.3f} {train:>7.3f}"
                   for label, test, train in zip(labels, values[::2], values[1::2], strict=True))


if __name__ == "__main__":
    main()
