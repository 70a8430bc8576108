"""INMET yearly historical ZIPs dropped in a landing folder -> the station's daily weather.

INMET publishes one ZIP a year with every station's hourly CSV (portal.inmet.gov.br, "dados
históricos"); no API serves it. A user drops the years in the landing folder. The ZIPs go through the
same content-hash store as the ERP exports (`landing.LandingStore`):

* each ZIP is registered by content hash, kept byte for byte in `files/<hash>/<name>`, and its
  station's hourly rows in `parsed/<hash>.parquet`; a hash already registered is skipped, whatever
  the file is called now, so a folder of years can stay where it is;
* a ZIP that is not one, lacks the station or has an unreadable CSV is moved to `<landing>/rejected/`
  with a `.reason.txt`, and nothing registered before changes;
* the daily table is rebuilt from the hours of every accepted ZIP together, because a local day can
  straddle two yearly files (31 December after 21:00 in Salvador is 1 January in UTC).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nova_assets.lib import lake
from nova_assets.lib.sources.inmet import HISTORICAL_SOURCE, hourly_from_archive
from nova_assets.lib.sources.landing import LandingStore, NewFile, Refused, now_utc
from nova_assets.lib.sources.snapshots import SourceUnavailable
from nova_assets.lib.sources.weather import DAILY_COLUMNS, daily_from_hourly

ARCHIVE_SUFFIX = ".zip"
FILE_KIND = "INMET archive"


@dataclass(frozen=True)
class LoadedArchive:
    """One accepted yearly ZIP, as registered in the manifest."""

    content_hash: str
    file_name: str
    loaded_at: str  # UTC, ISO 8601
    hours: int  # hourly rows of the station
    first_hour_utc: str
    last_hour_utc: str
    size_bytes: int = 0
    withdrawn_at: str | None = None


@dataclass
class ArchiveReport:
    """What one pass over the landing folder did."""

    loaded: list[LoadedArchive] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name (same content as <first name>)"
    rejected: list[str] = field(default_factory=list)  # "INMET archive <name> rejected: <reason> (moved to ...)"
    ignored: list[str] = field(default_factory=list)  # not a .zip


class InmetHistoryStore:
    """The accepted yearly ZIPs of one station under `root` (the lake's `bronze/inmet_history/<station>`)."""

    def __init__(self, root: Path, station: str) -> None:
        self.root = root
        self.station = station
        self.landing = LandingStore(root, LoadedArchive)

    def ingest(self, landing: Path) -> ArchiveReport:
        """Register every new ZIP of the landing folder; move unreadable ones aside."""
        found = self.landing.ingest(
            landing, wants=lambda path: path.suffix.lower() == ARCHIVE_SUFFIX, accept=self._accept
        )
        return ArchiveReport(
            loaded=found.loaded,
            skipped=found.skipped + found.unreadable,
            rejected=[r.message(FILE_KIND) for r in found.rejected],
            ignored=found.ignored,
        )

    def _accept(self, new: list[NewFile]) -> Iterator[LoadedArchive | Refused]:
        for item in new:
            name = item.original.name
            try:
                hourly = hourly_from_archive(item.staged.read_bytes(), self.station)
            except (zipfile.BadZipFile, SourceUnavailable, ValueError, KeyError, UnicodeDecodeError) as exc:
                yield Refused(f"{name}: {type(exc).__name__}: {exc}")
                continue
            lake.write_table(self.root, "parsed", item.content_hash, hourly)
            yield LoadedArchive(
                item.content_hash, name, now_utc(), len(hourly),
                str(hourly["time_utc"].min()), str(hourly["time_utc"].max()), item.size_bytes,
            )  # fmt: skip

    def archives(self) -> list[LoadedArchive]:
        """Accepted ZIPs in load order (withdrawn ones left out)."""
        return [entry for entry in self.landing.entries() if entry.withdrawn_at is None]

    def daily(self) -> pd.DataFrame | None:
        """weather_daily rows (source 'inmet-historical') from every accepted ZIP; None without any."""
        entries = self.archives()
        if not entries:
            return None
        hourly = pd.concat(
            [lake.read_table(self.root, "parsed", entry.content_hash) for entry in entries], ignore_index=True
        )
        return daily_from_hourly(hourly, HISTORICAL_SOURCE)


def empty_daily() -> pd.DataFrame:
    """weather_daily with no row, in the contract types (no archive yet)."""
    return pd.DataFrame(
        {column: pd.Series(dtype=object if column in ("date", "source") else "float64") for column in DAILY_COLUMNS}
    )
