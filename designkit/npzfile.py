"""The one door for ``.npz`` files: a bounded zip of plain numeric ``.npy`` arrays, no pickle.

A design, a project's design or a checkpoint is read through :func:`read_npz`, which checks the
archive before numpy builds anything from it:

* it must be a regular file and a zip archive (a bare ``.npy``, an empty or truncated file is
  named as such);
* at most :data:`MAX_MEMBERS` members, each a plain name ending in ``.npy`` (no folders, no
  ``..``, no absolute paths);
* each member's header is read first: its dtype must be boolean, integer or floating (no
  objects, so nothing is ever unpickled; no strings), its shape must fit :data:`MAX_ELEMENTS`
  elements in all, and its data must fit the size the archive records for it, so that a header
  that claims 10⁹ × 10⁹ elements is refused instead of allocated;
* a CRC mismatch or a cut-off member is a damaged file.

What the arrays mean (which keys, which shapes) is checked by the reader of each kind of file.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import FileFormatError

__all__ = ["MAX_ELEMENTS", "MAX_MEMBERS", "read_npz"]

#: Members an archive may hold.
MAX_MEMBERS = 64
#: Elements of all arrays together (a few 16 M-cell grids).
MAX_ELEMENTS = 200_000_000
#: Bytes of an array header (numpy's own default bound).
_MAX_HEADER = 10_000


def read_npz(path: str | Path, *, what: str = "design file",
             max_elements: int = MAX_ELEMENTS, data: bytes | None = None
             ) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, by name, after the checks above.

    Args:
        path: the file.
        what: what it should be, for messages (``design file``, ``checkpoint``).
        max_elements: the bound on all elements together.
        data: the file's bytes, already read (a checkpoint whose digest was checked on exactly
            these bytes); ``path`` then only names it in messages.

    Raises:
        FileFormatError: naming the file, the member and what is wrong.
    """
    path = Path(path)
    if data is None:
        try:
            info = path.stat()
        except OSError as exc:
            raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})"
                                  ) from None
        if not stat.S_ISREG(info.st_mode):
            raise FileFormatError(path, f"not a regular file; give a {what} (.npz)")
        size = info.st_size
        with open(path, "rb") as fh:
            head = fh.read(6)
    else:
        size, head = len(data), data[:6]
    if size == 0:
        raise FileFormatError(path, f"the file is empty: not a {what}")
    if head == b"\x93NUMPY":
        raise FileFormatError(path, f"a single .npy array, not a {what} (an .npz archive of "
                              "named arrays)")
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as archive:
            return _read_members(path, archive, what, max_elements)
    except zipfile.BadZipFile as exc:
        raise FileFormatError(path, f"not a {what}, or a damaged one ({exc}); restore it or "
                              "write it again") from None
    except (EOFError, zlib.error, OSError) as exc:
        raise FileFormatError(path, f"a damaged {what} ({type(exc).__name__}: {exc}); restore "
                              "it or write it again") from None


def _read_members(path: Path, archive: zipfile.ZipFile, what: str,
                  max_elements: int) -> dict[str, np.ndarray]:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise FileFormatError(path, f"{len(members):,} members; a {what} holds at most "
                              f"{MAX_MEMBERS}")
    total = 0
    arrays: dict[str, np.ndarray] = {}
    for member in members:
        name = member.filename
        key = name[:-4] if name.endswith(".npy") else None
        if (key is None or not key or "/" in name or "\\" in name or ".." in name
                or name.startswith(("/", "."))):
            raise FileFormatError(path, f"member {name!r} is not a plain array name (.npy)")
        if key in arrays:
            raise FileFormatError(path, f"member {name!r} appears twice")
        with archive.open(member) as fh:
            try:
                version = np.lib.format.read_magic(fh)
                shape, _, dtype = _header(fh, version)
            except (ValueError, SyntaxError, TypeError) as exc:
                raise FileFormatError(path, f"member {key!r} is not a numpy array ({exc})"
                                      ) from None
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
            raise FileFormatError(path, f"array {key!r} has dtype {dtype}; a {what} holds "
                                  "booleans, integers and floats only")
        if any(n < 0 for n in shape):
            raise FileFormatError(path, f"array {key!r} has shape {shape}")
        count = int(np.prod(shape, dtype=object))
        total += count
        if total > max_elements:
            raise FileFormatError(path, f"array {key!r} of shape {shape} takes the file past "
                                  f"{max_elements:,} elements; not a {what} wavefab writes")
        if count * dtype.itemsize > member.file_size:
            raise FileFormatError(path, f"array {key!r} claims shape {shape} but holds "
                                  f"{member.file_size:,} bytes: the file is cut off or damaged")
        with archive.open(member) as fh:
            try:
                arrays[key] = np.lib.format.read_array(fh, allow_pickle=False,
                                                       max_header_size=_MAX_HEADER)
            except (ValueError, EOFError) as exc:
                raise FileFormatError(path, f"array {key!r} is damaged ({exc})") from None
    return arrays


def _header(fh, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh, max_header_size=_MAX_HEADER)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh, max_header_size=_MAX_HEADER)
    raise ValueError(f"unsupported .npy format version {version}")
