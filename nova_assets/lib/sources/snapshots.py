"""Offline snapshots of the public APIs and the live-or-snapshot decision shared by every connector."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).resolve().parents[3] / "data" / "snapshots"

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The live source could not deliver usable data (network, HTTP error, refused request, bad body)."""


def load_snapshot(name: str, snapshot_dir: Path = SNAPSHOT_DIR) -> bytes:
    """Bytes of the recorded response `name`, so offline runs parse exactly what the API once sent."""
    path = snapshot_dir / name
    if not path.is_file():
        raise SourceUnavailable(f"no recorded snapshot {name!r} in {snapshot_dir}")
    return path.read_bytes()


def fetch_or_snapshot(
    fetch_live: Callable[[], bytes],
    snapshot_path: Path,
    offline: bool,
    bronze_dir: Path | None,
) -> tuple[bytes, str]:
    """Live bytes when possible, else the recorded snapshot; the str says which ('live', 'snapshot',
    'snapshot (live failed: <reason>)') so the run's metadata can show where the data came from.

    Every live response is written untouched to `bronze_dir` first, so a parser bug never loses a
    download and any table can be rebuilt from bronze.
    """
    if offline:
        return load_snapshot(snapshot_path.name, snapshot_path.parent), "snapshot"
    try:
        payload = fetch_live()
    except SourceUnavailable as exc:
        log.warning("live fetch failed, using snapshot %s: %s", snapshot_path.name, exc)
        return load_snapshot(snapshot_path.name, snapshot_path.parent), f"snapshot (live failed: {exc})"
    if bronze_dir is not None:
        log.info("stored live response in %s", _store_bronze(payload, bronze_dir, snapshot_path.suffix))
    return payload, "live"


def _store_bronze(payload: bytes, bronze_dir: Path, suffix: str) -> Path:
    bronze_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = bronze_dir / f"{stamp}{suffix}"
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(payload)
    partial.replace(target)
    return target
