"""Training checkpoints: ``checkpoint.json`` + ``checkpoint.npz``, written atomically, no pickle.

The json names the digest of the npz it belongs to, so a crash between the two writes, a
truncated file or a foreign file is detected on load instead of being resumed from.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from ..errors import DesignValueError
from ..files import write_atomically

#: Format version of the checkpoint files this wavefab writes and reads.
CHECKPOINT_VERSION = 2

__all__ = ["CHECKPOINT_VERSION", "load_checkpoint", "save_checkpoint"]


def save_checkpoint(folder: Path, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``checkpoint.npz`` then ``checkpoint.json`` (which names the npz's digest) atomically.

    A crash between the two leaves the previous json pointing at a previous npz digest, which
    :func:`load_checkpoint` detects; a crash inside either write leaves only a ``.tmp`` file.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()
    write_atomically(folder / "checkpoint.npz", payload)
    state = {**state, "version": CHECKPOINT_VERSION,
             "npz_sha256": hashlib.sha256(payload).hexdigest()}
    write_atomically(folder / "checkpoint.json", json.dumps(state, indent=1).encode())


def load_checkpoint(folder: Path) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The last complete checkpoint in ``folder``, or None when there is none."""
    meta, npz = folder / "checkpoint.json", folder / "checkpoint.npz"
    if not meta.exists():
        return None
    try:
        state = json.loads(meta.read_text())
        payload = npz.read_bytes()
    except (OSError, ValueError) as exc:
        raise DesignValueError(f"checkpoint in {folder} is unreadable: {exc}") from None
    if state.get("version") != CHECKPOINT_VERSION:
        raise DesignValueError(
            f"checkpoint in {folder} has version {state.get('version')!r}; this wavefab "
            f"writes version {CHECKPOINT_VERSION}"
        )
    if hashlib.sha256(payload).hexdigest() != state.get("npz_sha256"):
        raise DesignValueError(
            f"checkpoint in {folder} is incomplete (checkpoint.npz does not match "
            f"checkpoint.json); delete both to start over"
        )
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz_file:
        arrays = {k: npz_file[k] for k in npz_file.files}
    return state, arrays
