"""The landing folders users drop exports into: which files to read, and where unreadable ones go.

A file that cannot be read at all is moved aside (never deleted) into `rejected/` next to it, with a
`<name>.reason.txt` saying why, so the next run does not trip over it again and the user sees at a
glance what to fix. Nothing under `rejected/` is read again.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from nova_assets.lib.lake import atomic_file

REJECTED_DIR = "rejected"
REASON_SUFFIX = ".reason.txt"


def landing_files(folder: Path) -> list[Path]:
    """Every file under `folder` (sub-folders too) except what was moved aside and hidden files, sorted."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and REJECTED_DIR not in path.relative_to(folder).parts[:-1] and not path.name.startswith(".")
    )


def move_aside(path: Path, reason: str, landing_root: Path) -> Path:
    """Move `path` into `<landing_root>/rejected/` with a reason file; return the new path.

    A name already taken there gets a UTC time stamp, so an earlier rejected copy is never overwritten.
    """
    target_dir = landing_root / REJECTED_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    reason_file = target.with_name(target.name + REASON_SUFFIX)
    reason_file.write_text(
        f"file: {path}\nrejected at: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\nreason: {reason}\n"
        "Fix the file and drop it in the landing folder again; it will be read as a new file.\n",
        encoding="utf-8",
    )
    return target


def write_atomic(path: Path, data: bytes) -> Path:
    """Write through a temporary name and rename, so a crash never leaves half a file under the real name."""
    with atomic_file(path) as partial:
        partial.write_bytes(data)
    return path
