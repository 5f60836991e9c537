"""Writing a sweep file: a configuration as its base, and the keys and values to sweep.

What the designer's "Save as sweep" writes, usable from a script as well::

    from wavefab.designkit.sweep.authoring import parse_values, write_sweep_file

    write_sweep_file("rules.yaml", config, {"material.c1": parse_values("0.5, 0.6")})
    # wrote rules.yaml and rules_base.yaml; run it with `wavefab sweep rules.yaml --out rules`

The base configuration is always written as a snapshot next to the sweep file
(``<stem>_base.yaml``), never referenced where it came from: the designer's configuration may
hold edits its file does not, and a referenced file edited later would silently change what the
sweep runs (and every point's id). Everything is checked before anything is written: the texts
are read back exactly as :func:`~.spec.load_sweep` will read them and every point is built, so a
bad key or value is one :class:`~.spec.SweepError` and no file appears.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..config import RunConfig, config_to_dict
from ..files import write_atomically
from .spec import Point, SweepError, SweepSpec, parse_sweep

__all__ = ["SweepDraft", "base_path_for", "draft_sweep", "parse_values", "setting_values",
           "write_sweep_file"]

#: A dotted configuration key (``material.c1``, ``fabrication.min_feature``).
_KEY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
#: A number PyYAML leaves as text (it reads ``1e-3``, without a dot, as a string).
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def parse_values(text: str, *, name: str = "values") -> list[Any]:
    """The values of one swept key from comma-separated text, each read as YAML reads it.

    ``"0.1, 0.2"`` gives floats, ``"3, 4"`` integers, ``"true"`` a bool, ``"0.4mm, best"``
    strings; ``"1e-3"`` a float (which plain YAML would keep as text); ``"[30, 12], [30, 14]"``
    two lists. Quote text that holds a comma (``"'a, b'"``).

    Args:
        text: the values, separated by commas.
        name: what the error message calls them (the key, in the designer).

    Raises:
        SweepError: empty text, unreadable text, or a value given twice; naming ``name``.
    """
    from ..errors import FileFormatError
    from ..yamlfile import yaml_value

    stripped = text.strip()
    if not stripped:
        raise SweepError(f"{name}: give at least one value (separate values by commas)")
    try:
        # a YAML flow list is exactly "values separated by commas", with YAML's scalars
        values = yaml_value(f"[{stripped}]", name)
    except FileFormatError:
        raise SweepError(f"{name}: cannot read {text!r} as comma-separated values (quote "
                         "text that holds a comma or a bracket)") from None
    if not isinstance(values, list) or not values:
        raise SweepError(f"{name}: give at least one value (separate values by commas)")
    values = [float(v) if isinstance(v, str) and _NUMBER.fullmatch(v) else v for v in values]
    seen: list[Any] = []
    for value in values:
        # 1 and 1.0 read as the same setting, hence the same point: numbers compare by value
        if any((value == s and type(value) is type(s)) or _same_number(value, s) for s in seen):
            raise SweepError(f"{name}: {value!r} is given twice")
        seen.append(value)
    return values


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)


def setting_values(config: RunConfig) -> dict[str, Any]:
    """Every dotted key of ``config`` that holds a value (what a sweep can vary), sorted.

    The values are as a sweep file writes them (lists for tuples); the designer offers the keys
    and shows each one's current value.
    """
    found: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        elif prefix.count(".") > 1:  # a field of a section, not schema_version or problem
            found[prefix[:-1]] = node

    walk(config_to_dict(config), "")
    return dict(sorted(found.items()))


def base_path_for(path: str | Path) -> Path:
    """Where the base configuration of sweep file ``path`` goes: ``<stem>_base.yaml`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}_base.yaml")


@dataclass(frozen=True, eq=False)
class SweepDraft:
    """A checked sweep file not written yet (see :func:`draft_sweep`).

    Attributes:
        path: the sweep file to write.
        base_path: the base configuration to write beside it.
        text: the sweep file's text; ``base_text``: the base configuration's.
        spec: the sweep as :func:`~.spec.load_sweep` will read it.
        points: every point, built and validated.
    """

    path: Path
    base_path: Path
    text: str
    base_text: str
    spec: SweepSpec = field(repr=False)
    points: list[Point] = field(repr=False)

    @property
    def existing(self) -> list[Path]:
        """The files writing it would replace (ask before replacing them)."""
        return [p for p in (self.path, self.base_path) if p.exists()]

    def describe(self) -> str:
        """One line: how many points, over which keys."""
        shape = " × ".join(f"{k} ({len(v)})" for k, v in self.spec.grid.items())
        return f"{len(self.points)} point{'s' if len(self.points) != 1 else ''}: {shape}"


def _plain(value: Any, key: str) -> Any:
    """``value`` as plain YAML data (numpy scalars and arrays become Python ones)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v, key) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise SweepError(f"{key}: {value!r} is not a value a sweep file can hold "
                     "(numbers, text, true/false, lists)")


def draft_sweep(path: str | Path, base_config: RunConfig, grid: Mapping[str, Sequence[Any]],
                *, metric: str | None = None,
                direction: Literal["maximize", "minimize"] | None = None,
                fixed: Mapping[str, Any] | None = None, title: str | None = None) -> SweepDraft:
    """Build and check a grid sweep over ``base_config``; nothing is written.

    Args:
        path: the sweep file (``.yaml`` or ``.yml``); the base goes beside it
            (:func:`base_path_for`).
        base_config: the configuration every point starts from.
        grid: values by dotted key; the sweep runs their cartesian product.
        metric: the ``metrics.json`` key to rank by (default: the problem's made-part metric).
        direction: ``maximize`` (default) or ``minimize``.
        fixed: overrides every point shares (the sweep file's ``set:``).
        title: named in the files' header comments (the project's name).

    Raises:
        SweepError: a bad path, key or value, naming it; e.g. ``rules.yaml: point 1
            (material.cx=0.5): material.cx: unknown key``.
    """
    import yaml

    path = Path(path)
    if path.suffix not in (".yaml", ".yml"):
        raise SweepError(f"{path}: a sweep file's name ends in .yaml or .yml")
    if not grid:
        raise SweepError("grid: give at least one dotted key and its values")
    swept: dict[str, list[Any]] = {}
    for raw_key, given in grid.items():
        key = str(raw_key).strip()
        if not _KEY.fullmatch(key):
            raise SweepError(f"grid: {key!r}: give a dotted setting such as material.c1")
        if key in swept:
            raise SweepError(f"grid: {key}: given twice")
        # a lone string is one value, not its characters
        listed = [_plain(v, key) for v in ([given] if isinstance(given, str) else given)]
        if not listed:
            raise SweepError(f"grid: {key}: give at least one value")
        swept[key] = listed
    base_path = base_path_for(path)
    what = f" of {title}" if title else ""
    base_text = (f"# the base configuration{what} for the sweep {path.name} (a snapshot from "
                 "the wavefab designer)\n"
                 + yaml.safe_dump(config_to_dict(base_config), sort_keys=False))
    values: dict[str, Any] = {"base": base_path.name}
    if fixed:
        values["set"] = {str(k): _plain(v, str(k)) for k, v in fixed.items()}
    if metric:
        values["metric"] = metric
    if direction:
        values["direction"] = direction
    values["grid"] = swept
    text = (f"# a sweep{what}, saved from the wavefab designer; run it with\n"
            f"#   wavefab sweep {path.name} --out {path.stem}\n"
            + yaml.safe_dump(values, sort_keys=False, default_flow_style=None))
    # read both texts back exactly as load_sweep will: what is checked is what is written
    spec = parse_sweep(yaml.safe_load(text), yaml.safe_load(base_text), source=str(path),
                       text=text)
    points = spec.points()
    ids: dict[str, Point] = {}
    for point in points:
        if point.id in ids:  # e.g. 0.5 and 0.50 of a key, or a value equal to the base's twice
            raise SweepError(f"{path}: point {point.index + 1} ({point.label()}) is the same "
                             f"configuration as point {ids[point.id].index + 1} "
                             f"({ids[point.id].label()})")
        ids[point.id] = point
    return SweepDraft(path=path, base_path=base_path, text=text, base_text=base_text,
                      spec=spec, points=points)


def write_sweep_file(path: str | Path, base_config: RunConfig,
                     grid: Mapping[str, Sequence[Any]], *, metric: str | None = None,
                     direction: Literal["maximize", "minimize"] | None = None,
                     fixed: Mapping[str, Any] | None = None, title: str | None = None,
                     overwrite: bool = False) -> Path:
    """Check, then write the sweep file ``path`` and its base beside it; returns ``path``.

    Arguments as :func:`draft_sweep`. The base is written first and the sweep file last, each
    atomically, so a sweep file that exists is complete and its base is there.

    Args:
        path: the sweep file.
        base_config: the configuration every point starts from.
        grid: values by dotted key.
        metric: the ``metrics.json`` key to rank by.
        direction: ``maximize`` or ``minimize``.
        fixed: overrides every point shares.
        title: named in the files' header comments.
        overwrite: replace the sweep file or its base when they exist (without it, refuse).

    Raises:
        SweepError: a bad key or value (nothing written), a file that exists (nothing
            written, unless ``overwrite``), or a folder that cannot be written.
    """
    draft = draft_sweep(path, base_config, grid, metric=metric, direction=direction,
                        fixed=fixed, title=title)
    if draft.existing and not overwrite:
        names = " and ".join(str(p) for p in draft.existing)
        raise SweepError(f"{names}: already there; choose another name or allow replacing it "
                         "(nothing was written)")
    if not draft.path.parent.is_dir():
        raise SweepError(f"{draft.path.parent}: no such folder (nothing was written)")
    try:
        write_atomically(draft.base_path, draft.base_text.encode())
        write_atomically(draft.path, draft.text.encode())
    except OSError as exc:
        raise SweepError(f"{draft.path}: cannot write it: {exc.strerror or exc}") from None
    return draft.path
