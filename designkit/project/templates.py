"""The templates a new project starts from: one or more per problem, and the demo's lens.

Each problem brings its own (:attr:`~wavefab.designkit.problems.kind.ProblemKind.templates`);
``lens-sla`` is the built-in demonstration's configuration (:data:`DEMO_CONFIG`, the one
``wavefab demo`` trains): the lens as an SLA-printed part.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from ..problems.registry import PROBLEMS

__all__ = ["DEMO_CONFIG", "TEMPLATES", "template_values"]

#: The demo's run: ``assets/examples/lens_fab.yaml`` (a test keeps the two equal). Lens geometry
#: and material speeds are the defaults.
DEMO_CONFIG: dict = {
    "problem": "lens",
    "material": {"c0": 1.0, "c1": 0.5, "beta": 4.0, "eta": 0.5},
    "training": {"optimizer": "lbfgs", "lbfgs_iterations": 10, "epochs": 14,
                 "beta_schedule": [[0, 4.0], [4, 16.0], [8, 64.0], [11, math.inf]]},
    "fabrication": {"process": "sla", "pitch": "0.1mm", "robust": True, "eta_e": 0.75,
                    "objective": "worst", "filter": "conic", "filter_edge": "surroundings",
                    "projection": "smoothed", "constraint_weight": 0.0, "repair": True},
}


def _templates() -> dict[str, tuple[str, dict[str, Any]]]:
    table: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind in PROBLEMS.values():
        table.update(kind.templates)
    table["lens-sla"] = ("focusing lens printed by SLA: 0.5 mm rules at 0.1 mm per cell",
                         DEMO_CONFIG)
    return table


#: Templates of a new project: name → (description, configuration values).
TEMPLATES: dict[str, tuple[str, dict[str, Any]]] = _templates()


def template_values(name: str) -> dict[str, Any]:
    """A copy of the configuration values of template ``name`` (a :data:`TEMPLATES` key)."""
    return copy.deepcopy(TEMPLATES[name][1])
