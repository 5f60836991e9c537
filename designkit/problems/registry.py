"""Every problem a run configuration can name (``problem:``), in one table.

A new problem is one module (its section dataclass, its :class:`~.base.Problem` subclass and
its :class:`~.kind.ProblemKind`, ``KIND``) plus one entry here; the schema, the runner, the
sketches, the templates and the designer's editors all read this table.
"""

from __future__ import annotations

from ..errors import DesignValueError
from . import custom, lens, vowels
from .kind import ProblemKind

__all__ = ["PROBLEMS", "problem_kind"]

#: Every problem, by name, in the order their sections appear in a configuration file (the
#: vowels' data and geometry, then the lens, then the drawn problem).
PROBLEMS: dict[str, ProblemKind] = {kind.name: kind for kind in (vowels.KIND, lens.KIND,
                                                                 custom.KIND)}


def problem_kind(name: str) -> ProblemKind:
    """The kind named ``name``.

    Raises:
        DesignValueError: an unknown problem, naming the known ones.
    """
    if name not in PROBLEMS:
        raise DesignValueError(f"unknown problem {name!r}; choose one of {', '.join(PROBLEMS)}")
    return PROBLEMS[name]
