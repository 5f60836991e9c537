"""The one door for YAML files: bounded, alias-free, UTF-8, a mapping at the top.

Every YAML file wavefab reads (run configurations, sweep files, projects, process tables) and
every ``--set`` value comes through here, so that a hostile or broken file is one clear error,
never a traceback, a hang or a run of defaults:

* the file must be a regular file under :data:`MAX_BYTES` and UTF-8 text;
* aliases (``*name``, and the ``<<:`` merges built on them) are refused: they are how a
  "billion laughs" file expands a few hundred bytes into gigabytes;
* nesting deeper than :data:`MAX_DEPTH` and scalars longer than :data:`MAX_SCALAR` characters
  are refused (no configuration needs them; deep nesting would exhaust the recursion limit);
* the top level must be a mapping, and an empty file is an error, not a default run.

Only PyYAML's safe constructors run: no Python object is ever built from a file.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import FileFormatError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_SCALAR", "parse_yaml", "read_yaml", "yaml_value"]

#: The largest YAML file read (bytes); configurations are a few kB.
MAX_BYTES = 4 * 1024 * 1024
#: The deepest nesting of mappings and lists.
MAX_DEPTH = 32
#: The longest scalar (characters).
MAX_SCALAR = 100_000


class _Refused(Exception):
    """A YAML construct wavefab does not read; the message says which and where."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, and with bounded depth and scalar size."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        where = f"line {event.start_mark.line + 1}"
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"{where}: YAML aliases (*{event.anchor}) are not read; write the "
                           "value out in full")
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR:
            raise _Refused(f"{where}: a value of {len(event.value):,} characters (at most "
                           f"{MAX_SCALAR:,})")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"{where}: nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load(text: str) -> Any:
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str, *, what: str = "file") -> dict[str, Any]:
    """The mapping a YAML text holds.

    Args:
        text: the YAML text.
        source: what to call it in errors (a path, ``--set training.seed``).
        what: what it should be, for the empty-file message (``run configuration``).

    Raises:
        FileFormatError: not YAML, a refused construct, empty, or not a mapping at the top.
    """
    try:
        values = _load(text)
    except _Refused as exc:
        raise FileFormatError(source, str(exc)) from None
    except yaml.YAMLError as exc:
        raise FileFormatError(source, f"not valid YAML ({' '.join(str(exc).split())})") from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. a 5000-digit integer
        raise FileFormatError(source, f"a value YAML cannot read ({_first(exc)})") from None
    if values is None:
        raise FileFormatError(source, f"the file is empty: a {what} needs at least one key")
    if not isinstance(values, dict):
        raise FileFormatError(source, f"a {what} is a mapping of keys at the top level, got "
                              f"{type(values).__name__} {_short(values)}")
    bad = [k for k in values if not isinstance(k, str)]
    if bad:
        raise FileFormatError(source, f"keys are names, got {_short(bad[0])}")
    return values


def yaml_value(text: str, source: str) -> Any:
    """One YAML value (a ``--set`` right-hand side), through the same bounds as a file.

    Raises:
        FileFormatError: naming ``source``.
    """
    if len(text) > MAX_SCALAR:
        raise FileFormatError(source, f"a value of {len(text):,} characters (at most "
                              f"{MAX_SCALAR:,})")
    try:
        return _load(text)
    except _Refused as exc:
        raise FileFormatError(source, str(exc)) from None
    except yaml.YAMLError as exc:
        raise FileFormatError(source, f"not a YAML value ({' '.join(str(exc).split())})") from None
    except (ValueError, OverflowError, RecursionError) as exc:
        raise FileFormatError(source, f"a value YAML cannot read ({_first(exc)})") from None


def read_yaml(path: str | Path, *, what: str = "file") -> dict[str, Any]:
    """Read the YAML mapping in ``path`` (a regular file of UTF-8 text under :data:`MAX_BYTES`).

    Raises:
        FileFormatError: missing, not a regular file, too large, not UTF-8, or see
            :func:`parse_yaml`.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise FileFormatError(path, f"{kind}; give the path of a {what} (.yaml)")
    if info.st_size > MAX_BYTES:
        raise FileFormatError(path, f"{info.st_size:,} bytes is too large for a {what} (at "
                              f"most {MAX_BYTES:,})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, f"not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
                              ) from None
    return parse_yaml(text, str(path), what=what)


def _first(exc: BaseException) -> str:
    """The first clause of an error (Python's digit-limit message goes on to name an API)."""
    return str(exc).split(";")[0]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
