"""Crash-safe file writing: a file appears complete under its name, or not at all.

Every writer in the design core goes through here, so a kill, a full disk or an exception in the
middle of an export leaves at most a ``.tmp`` file next to the target, never a truncated file
under the name the user asked for (or a damaged earlier version of it).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "wavefab_version", "write_atomically"]


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file and an atomic rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write instead of ``path``; renamed onto ``path`` on success.

    For libraries that write by file name (gdstk, trimesh, ezdxf). The temporary name keeps the
    suffix so that writers choosing a format from it still do. On an exception the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        # Created here first: a folder we may not write to is then a plain OSError naming the
        # path, whichever library writes the file (gdstk reports only "Error opening").
        with open(tmp, "wb"):
            pass
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno is not None and \
                exc.filename in (None, str(tmp)):
            # A write to an open file (a full disk) names no file, or our temporary one: name
            # the one asked for.
            raise OSError(exc.errno, f"{exc.strerror} while writing", str(path)) from exc
        raise


@functools.cache
def wavefab_version() -> str:
    """The installed wavefab version, as the files it writes record it.

    ``"unknown"`` when run from an uninstalled tree. Looked up once: a sweep stamps it into
    every point's id.
    """
    from importlib import metadata

    try:
        return metadata.version("wavefab")
    except metadata.PackageNotFoundError:
        return "unknown"
