"""Writing a corpus of crafted files: shared by the ``make_*_corpus.py`` scripts beside it."""

from __future__ import annotations

from pathlib import Path


def write_corpus(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (paths relative to ``root``) and remove what else those folders hold.

    A file dropped from a corpus script is removed too, so that the folder stays exactly what the
    script makes (the tests compare each folder with their table).
    """
    folders = {(root / name).parent for name in files}
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file() and str(old.relative_to(root)) not in files:
                old.unlink()
    for name, data in files.items():
        (root / name).write_bytes(data)
    print(f"wrote {len(files)} files under {root}")
