"""Training ablations: what each choice is worth, measured side by side on the same folds.

Run from the project root::

    python bench/training.py readout --data ../shared/data/vowels      # ~12 min on 2 cores
    python bench/training.py readout --epochs 1 --folds 2                # synthetic smoke test
    python bench/training.py lens                                         # ~1 min

``readout``: the vowel classifier trained with wavefab's read-out (normalized probe powers taken
as the class probabilities, loss ``−ln p_true``) against the reference code's (the same powers
fed to a softmax cross-entropy as logits), on ``assets/examples/vowels_quick.yaml`` (or
``--config``), same folds, seed and schedule. ``lens``: Adam against L-BFGS-B on the focusing
lens of ``assets/examples/lens.yaml``, same β continuation.

Each line gives the mean test/train accuracy over folds (or the focus gain) and wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from wavefab.designkit.config import load_config
from wavefab.designkit.optimize import EpochEnd, RunEnd, optimize
from wavefab.designkit.problems.vowels import VowelProblem
from wavefab.designkit.run import build_parametrization, build_problem

ROOT = Path(__file__).resolve().parents[1]


def _train(problem, parametrization, settings) -> tuple[dict, float]:
    start = time.perf_counter()
    end = None
    for event in optimize(problem, parametrization, settings):
        if isinstance(event, EpochEnd):
            print(f"    fold {event.fold} epoch {event.epoch}: loss {event.loss:.3f} "
                  + ", ".join(f"{k} {v:.4g}" for k, v in event.metrics.items()
                              if isinstance(v, float)), flush=True)
        if isinstance(event, RunEnd):
            end = event
    assert end is not None
    return end.metrics, time.perf_counter() - start


def readout(args: argparse.Namespace) -> None:
    overrides = [f"training.{k}={v}" for k, v in (("epochs", args.epochs), ("folds", args.folds))
                 if v is not None]
    config = load_config(args.config or ROOT / "assets/examples/vowels_quick.yaml", overrides)
    base = build_problem(config, args.data)
    assert isinstance(base, VowelProblem)
    rows = []
    for choice in ("probabilities", "logits"):
        print(f"readout = {choice}", flush=True)
        problem = VowelProblem(base.data, base.geometry, readout=choice)
        metrics, seconds = _train(problem, build_parametrization(config, problem),
                                  config.training)
        rows.append((choice, metrics, seconds))
    data = args.data or "built-in synthetic vowels"
    t = config.training
    print(f"\nvowels ({data}), {t.folds} folds x {t.epochs} epochs, lr {t.learning_rate}:")
    print(f"{'readout':<15}{'test acc':>10}{'train acc':>11}{'per-fold test':>36}{'time':>9}")
    for choice, m, seconds in rows:
        folds = " ".join(f"{f['test_accuracy']:.3f}" for f in m["per_fold"])
        print(f"{choice:<15}{m['test_accuracy']:>10.3f}{m['train_accuracy']:>11.3f}"
              f"{folds:>36}{seconds:>8.0f}s")


def lens(args: argparse.Namespace) -> None:
    config = load_config(args.config or ROOT / "assets/examples/lens.yaml")
    problem = build_problem(config)
    parametrization = build_parametrization(config, problem)
    t = config.training
    runs = {
        "lbfgs": t,
        # Adam at one step per epoch: give it the same number of simulations as L-BFGS-B
        # (about lbfgs_iterations + 2 per epoch) on a stretched schedule.
        "adam": dataclasses.replace(
            t, optimizer="adam", learning_rate=0.05, epochs=t.epochs * t.lbfgs_iterations,
            beta_schedule=tuple((first * t.lbfgs_iterations, beta)
                                for first, beta in t.beta_schedule)),
    }
    rows = []
    for name, settings in runs.items():
        print(f"optimizer = {name}", flush=True)
        metrics, seconds = _train(problem, parametrization, settings)
        rows.append((name, metrics, seconds))
    print(f"\n{'optimizer':<12}{'focus gain':>12}{'peak gain':>11}{'gray level':>12}{'time':>8}")
    for name, m, seconds in rows:
        print(f"{name:<12}{m['focus_gain']:>12.2f}{m['peak_gain']:>11.2f}"
              f"{m['per_fold'][0]['gray_level']:>12.3f}{seconds:>7.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="case", required=True)
    r = sub.add_parser("readout", help="vowel loss read-out: probabilities vs logits")
    r.add_argument("--data", help="folder of [m|w]NN<vowel>.wav (default: synthetic vowels)")
    r.add_argument("--config", type=Path)
    r.add_argument("--epochs", type=int)
    r.add_argument("--folds", type=int)
    r.set_defaults(func=readout)
    la = sub.add_parser("lens", help="focusing lens: Adam vs L-BFGS-B")
    la.add_argument("--config", type=Path)
    la.set_defaults(func=lens)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
