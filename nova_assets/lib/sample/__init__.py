"""The deterministic SYNTHETIC sample business, and the note that marks a folder as holding it."""

from __future__ import annotations

from pathlib import Path

SYNTHETIC_MARKER = "SYNTHETIC_DATA.txt"  # written beside the generated files; anything reading them says so


def is_synthetic(folder: Path | str) -> bool:
    """`folder` holds generated sample data: its SYNTHETIC_MARKER note is there."""
    return (Path(folder) / SYNTHETIC_MARKER).exists()


def from_sample(path: Path | str) -> bool:
    """`path` lies in a folder marked as holding the sample, or below one: the generator writes its
    note at the top of the folder it fills and its tables into subfolders (erp/, anatel/)."""
    path = Path(path)
    folders = {*path.absolute().parents, *path.resolve().parents}  # a symlinked subfolder counts either way
    return any(is_synthetic(folder) for folder in folders)
