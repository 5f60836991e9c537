"""What the rest of wavefab needs of a problem: its :class:`ProblemKind`, :class:`Sketch`, drawing.

One :class:`ProblemKind` per problem (listed in :mod:`.registry`): the configuration sections it
reads (the schema takes its top-level keys from there), how to build the problem from them, how
to sketch its setup for a canvas without loading data, the templates a new project starts from,
which of its settings the designer's domain fields edit, and (for problems drawn by hand) how
the mouse tools edit it (:class:`Drawing`).

Kinds know their sections, never the whole run configuration, so that the schema
(:mod:`wavefab.designkit.config`) can be built from them without a cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .base import Problem
from .setup import MaterialNonlinearity

__all__ = ["Drawing", "ProblemKind", "Sketch"]


@dataclass(frozen=True)
class Sketch:
    """What a canvas draws of a configuration's setup, without loading any data.

    Attributes:
        shape: grid ``(rows, cols)``.
        h: cell size (simulation length units; times the pitch when there is one).
        region: bool ``(rows, cols)`` design region.
        sources: ``(row, col)`` of each source.
        probes: ``(row, col)`` of each probe.
        probe_names: a label per probe.
        absorber: width (cells) of the absorbing boundary.
        pitch: physical size of one cell (metres) when the fabrication section gives one.
        input_names: a label per example input the problem plays (the field view's choices).
    """

    shape: tuple[int, int]
    h: float
    region: np.ndarray
    sources: tuple[tuple[int, int], ...]
    probes: tuple[tuple[int, int], ...]
    probe_names: tuple[str, ...]
    absorber: int
    pitch: float | None = None
    input_names: tuple[str, ...] = ()


class Drawing(ABC):
    """How the designer's mouse tools edit one problem's section.

    Every method takes the section as a plain mapping (its ``config_to_dict`` form) and returns
    the edit as ``(dotted key, new value)``; nothing is changed here.

    Raises (every method):
        DesignValueError: the edit does not fit the problem (the message says what would).
    """

    @abstractmethod
    def paint(self, section: dict[str, Any], shape: dict[str, Any]) -> tuple[str, Any]:
        """The edit that adds one paint stroke (a ``RegionShapeConfig`` mapping)."""

    @abstractmethod
    def add_port(self, section: dict[str, Any], kind: str, row: int, col: int
                 ) -> tuple[str, Any]:
        """The edit that places a new source or probe at cell ``(row, col)``."""

    @abstractmethod
    def move_port(self, section: dict[str, Any], kind: str, index: int, row: int, col: int
                  ) -> tuple[str, Any]:
        """The edit that moves source/probe number ``index`` to cell ``(row, col)``."""

    @abstractmethod
    def delete_port(self, section: dict[str, Any], kind: str, index: int) -> tuple[str, Any]:
        """The edit that removes source/probe number ``index``."""


@dataclass(frozen=True)
class ProblemKind:
    """One problem as the configuration, the runner and the designer see it.

    Attributes:
        name: the value of ``problem:`` in a configuration.
        section: the key of the problem's own section (its layout: shape, ports, absorber).
        sections: ``(key, dataclass)`` of every section the problem reads, in file order.
        build: ``build(**sections, background_speed=, physics=, data_dir=)`` → the problem
            (``background_speed``: the material's speed at density 0; ``data_dir``: a folder of
            recordings that overrides the configuration's, for problems with data).
        sketch: ``sketch(**sections)`` → its :class:`Sketch` (no data loaded; pitch unset).
            It validates the layout, so the schema calls it to check a configuration.
        templates: new-project templates: name → (description, configuration values).
        keys: dotted keys of the settings the designer's domain fields edit, by role
            (``shape``, ``frequency``, ``steps``, ``absorber``; a missing role is not shown).
        drawing: how the mouse tools edit it; None when its layout follows settings only.
        data_section: the section whose ``folder`` names its recordings (problems with data);
            a run records there the folder it was given.
        made_metric: the ``metrics.json`` key that says how well the made (binary) part does,
            larger is better: what a sweep ranks by unless told otherwise.
    """

    name: str
    section: str
    sections: tuple[tuple[str, type], ...]
    build: Callable[..., Problem]
    sketch: Callable[..., Sketch]
    templates: Mapping[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)
    drawing: Drawing | None = None
    data_section: str | None = None
    made_metric: str = ""

    def values(self, config: Any) -> dict[str, Any]:
        """This problem's sections of a run configuration, by key."""
        return {key: getattr(config, key) for key, _ in self.sections}

    def build_from(self, config: Any, data_dir: str | Path | None = None) -> Problem:
        """The problem a run configuration describes (see :attr:`build`)."""
        problem = self.build(**self.values(config), background_speed=config.material.c0,
                             physics=config.physics, data_dir=data_dir)
        law = getattr(config, "nonlinearity", None)
        if law is not None and (law.b0 != 0 or law.c_nl != 0):
            problem.setup = replace(problem.setup, nonlinearity=MaterialNonlinearity(
                b0=law.b0, u_th=law.u_th, c_nl=law.c_nl, c0=config.material.c0,
                c1=config.material.c1))
        return problem

    def sketch_of(self, config: Any) -> Sketch:
        """The sketch of a run configuration's setup (see :attr:`sketch`)."""
        return self.sketch(**self.values(config))
