"""Training checkpoints: ``checkpoint.json`` + ``checkpoint.npz``, written atomically, no pickle.

The json names the SHA-256 digest of the npz it belongs to, so a crash between the two writes, a
truncated, bit-flipped or foreign file is detected on load instead of being resumed from.

Before a new checkpoint is written, the current pair becomes ``checkpoint.prev.json`` +
``checkpoint.prev.npz`` (hard links where the file system has them, else copies), so that a
damaged current checkpoint falls back to the one an epoch earlier, with a warning, instead of
losing the run. The order of the steps keeps at least one complete pair on disk at every moment.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ..errors import CheckpointWarning, DesignValueError, FileFormatError
from ..files import atomic_path, write_atomically
from ..npzfile import read_npz

#: Format version of the checkpoint files this wavefab writes and reads.
CHECKPOINT_VERSION = 2
#: The largest ``checkpoint.json`` read (bytes): its history is a few hundred bytes per epoch.
MAX_STATE_BYTES = 64 * 1024 * 1024

__all__ = ["CHECKPOINT_VERSION", "load_checkpoint", "save_checkpoint"]

_CURRENT, _PREVIOUS = "checkpoint", "checkpoint.prev"


def save_checkpoint(folder: Path, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """Keep the current checkpoint as the previous one, then write the new one atomically.

    Steps: previous npz, previous json (the current pair, linked or copied), new npz, new json.
    A kill after any step leaves either the current or the previous pair complete.
    """
    folder = Path(folder)
    if _complete(folder, _CURRENT):
        for suffix in (".npz", ".json"):
            _keep(folder / f"{_CURRENT}{suffix}", folder / f"{_PREVIOUS}{suffix}")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    write_atomically(folder / f"{_CURRENT}.npz", payload)
    state = {**state, "version": CHECKPOINT_VERSION,
             "npz_sha256": hashlib.sha256(payload).hexdigest()}
    write_atomically(folder / f"{_CURRENT}.json", json.dumps(state, indent=1).encode())


def load_checkpoint(folder: Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The last complete checkpoint in ``folder``, or None when there is none.

    A damaged current checkpoint (digest mismatch, unreadable file) is reported with a
    :class:`CheckpointWarning` and the previous one is used when it is complete.

    Raises:
        DesignValueError: the checkpoint is damaged and there is no good previous one, or it was
            written by another checkpoint version.
    """
    folder = Path(folder)
    if not (folder / f"{_CURRENT}.json").exists():
        return None
    try:
        return _read_pair(folder, _CURRENT)
    except _Damaged as damaged:
        if not (folder / f"{_PREVIOUS}.json").exists():
            raise DesignValueError(f"{damaged}; delete checkpoint.json and checkpoint.npz to "
                                   "start over") from None
        try:
            loaded = _read_pair(folder, _PREVIOUS)
        except _Damaged as also:
            raise DesignValueError(f"{damaged}, and so is the previous one ({also}); delete "
                                   "checkpoint*.json and checkpoint*.npz to start over"
                                   ) from None
        warnings.warn(f"{damaged}; resuming from the previous checkpoint (one epoch earlier)",
                      CheckpointWarning, stacklevel=2)
        return loaded


class _Damaged(Exception):
    """A checkpoint pair that cannot be trusted (the message says why)."""


def _read_pair(folder: Path, stem: str) -> tuple[dict, dict[str, np.ndarray]]:
    meta, npz = folder / f"{stem}.json", folder / f"{stem}.npz"
    try:
        if meta.stat().st_size > MAX_STATE_BYTES:
            raise _Damaged(f"{meta} is larger than {MAX_STATE_BYTES:,} bytes")
        state = json.loads(meta.read_bytes().decode("utf-8"))
        payload = npz.read_bytes()
    except (OSError, ValueError, RecursionError) as exc:
        raise _Damaged(f"checkpoint {meta.name} in {folder} is unreadable ({exc})") from None
    if not isinstance(state, dict):
        raise _Damaged(f"{meta} is not a checkpoint (its top level is not a mapping)")
    if state.get("version") != CHECKPOINT_VERSION:
        raise DesignValueError(
            f"checkpoint in {folder} has version {state.get('version')!r}; this wavefab "
            f"writes version {CHECKPOINT_VERSION}"
        )
    if hashlib.sha256(payload).hexdigest() != state.get("npz_sha256"):
        raise _Damaged(f"checkpoint {npz.name} in {folder} is damaged or incomplete (its "
                       f"SHA-256 does not match {meta.name})")
    try:
        arrays = read_npz(npz, what="checkpoint", data=payload)
    except FileFormatError as exc:
        raise _Damaged(str(exc)) from None
    return state, arrays


def _complete(folder: Path, stem: str) -> bool:
    """Whether the pair ``stem`` is on disk and its npz matches the digest its json names."""
    try:
        state = json.loads((folder / f"{stem}.json").read_bytes().decode("utf-8"))
        payload = (folder / f"{stem}.npz").read_bytes()
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(state, dict) and hashlib.sha256(payload).hexdigest() == state.get(
        "npz_sha256")


def _keep(source: Path, target: Path) -> None:
    """Put ``source``'s bytes under ``target`` atomically: a hard link, else a copy."""
    with atomic_path(target) as tmp:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
