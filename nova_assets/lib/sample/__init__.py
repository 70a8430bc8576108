"""The deterministic SYNTHETIC sample business, and the note that marks a folder as holding it."""

from __future__ import annotations

from pathlib import Path

SYNTHETIC_MARKER = "SYNTHETIC_DATA.txt"  # written beside the generated files; anything reading them says so


def is_synthetic(folder: Path | str) -> bool:
    """`folder` holds generated sample data: its SYNTHETIC_MARKER note is there."""
    return (Path(folder) / SYNTHETIC_MARKER).exists()
