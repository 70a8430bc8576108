"""Offline snapshots of the public APIs and the live-or-fallback decision shared by every connector.

Live, a source is fetched, its answer stored untouched in bronze *before* parsing (a parser fix can
replay it), then parsed. When the fetch or the parse fails, the newest earlier bronze answer that
parses stands in (the last good live data), then the recorded snapshot, then the previous raw table;
the result always says which one and why, so the asset can warn and fail its freshness check.
A table is never replaced by an empty one because a source was down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from nova_assets.lib.sources.landing import write_atomic

SNAPSHOT_DIR = Path(__file__).resolve().parents[3] / "data" / "snapshots"
RECORDED_ON = date(2025, 11, 11)  # day the snapshots were recorded (data/snapshots/README.md)
BRONZE_TRIES = 5  # earlier bronze answers tried, newest first, when the live one fails
PARSE_ERRORS = (ValueError, KeyError, TypeError, IndexError)  # what a parser raises on an unexpected answer

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The live source could not deliver usable data (network, HTTP error, refused request, bad body)."""


@dataclass(frozen=True)
class LiveSource:
    """How to fetch one source live (already bound to its URL, dates and HTTP policy) and parse the answer."""

    name: str  # bronze sub-folder, e.g. 'bacen-sgs-432'
    fetch: Callable[[], bytes]
    parse: Callable[[bytes], pd.DataFrame]
    suffix: str = ".json"


@dataclass(frozen=True)
class Snapshot:
    """A recorded answer and its parser (not necessarily the live source's: INMET falls back to Open-Meteo)."""

    path: Path
    parse: Callable[[bytes], pd.DataFrame]


@dataclass(frozen=True)
class Acquired:
    """A parsed table and where it came from."""

    table: pd.DataFrame
    origin: str  # 'live', 'snapshot <name>', 'bronze <file>' or 'previous raw table'
    fallback_reason: str | None = None  # why the live answer is not used; None when it is, or when offline
    bronze_path: Path | None = None  # where this run's live answer was stored

    @property
    def is_fallback(self) -> bool:
        return self.fallback_reason is not None


def load_snapshot(name: str, snapshot_dir: Path = SNAPSHOT_DIR) -> bytes:
    """Bytes of the recorded response `name`, so offline runs parse exactly what the API once sent."""
    path = snapshot_dir / name
    if not path.is_file():
        raise SourceUnavailable(f"no recorded snapshot {name!r} in {snapshot_dir}")
    return path.read_bytes()


def acquire(
    live: LiveSource,
    snapshot: Snapshot,
    *,
    offline: bool,
    bronze_root: Path,
    previous: pd.DataFrame | None = None,
) -> Acquired:
    """The table from the live source, or the best stand-in (module doc). Offline reads the snapshot.

    `previous` is the current raw table (None before the first write), the last resort when not even the snapshot can be
    read. Errors other than SourceUnavailable from `fetch` are bugs and propagate.
    """
    if offline:
        return _recorded(snapshot, previous, reason=None)
    bronze_dir = bronze_root / live.name
    stored: Path | None = None
    try:
        payload = live.fetch()
    except SourceUnavailable as exc:
        reason = f"live fetch failed: {exc}"
    else:
        stored = store_bronze(payload, bronze_dir, live.suffix)
        log.info("stored the live %s answer in %s", live.name, stored)
        try:
            return Acquired(live.parse(payload), "live", bronze_path=stored)
        except PARSE_ERRORS as exc:
            reason = f"live answer could not be parsed ({type(exc).__name__}: {exc}); it is kept in {stored}"
    log.warning("%s: %s", live.name, reason)
    earlier = sorted(bronze_dir.glob(f"*{live.suffix}"), reverse=True) if bronze_dir.is_dir() else []
    for path in [p for p in earlier if p != stored][:BRONZE_TRIES]:
        try:
            return Acquired(live.parse(path.read_bytes()), f"bronze {path.name}", reason, stored)
        except PARSE_ERRORS as exc:
            log.warning("earlier %s answer %s does not parse either: %s", live.name, path.name, exc)
    return _recorded(snapshot, previous, reason, stored)


def _recorded(
    snapshot: Snapshot, previous: pd.DataFrame | None, reason: str | None, stored: Path | None = None
) -> Acquired:
    try:
        return Acquired(
            snapshot.parse(load_snapshot(snapshot.path.name, snapshot.path.parent)),
            f"snapshot {snapshot.path.name}",
            reason,
            stored,
        )
    except SourceUnavailable as exc:
        if previous is None:
            raise SourceUnavailable(f"{reason + '; ' if reason else ''}{exc}; and no previous raw table") from exc
        why = f"{reason + '; ' if reason else ''}{exc}"
        return Acquired(previous, "previous raw table", why, stored)


def store_bronze(payload: bytes, bronze_dir: Path, suffix: str) -> Path:
    """Keep a live answer as received, named by its UTC arrival time (so names sort by age)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return write_atomic(bronze_dir / f"{stamp}{suffix}", payload)
