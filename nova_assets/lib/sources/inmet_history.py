"""INMET yearly historical ZIPs dropped in a landing folder -> the station's daily weather.

INMET publishes one ZIP a year with every station's hourly CSV (portal.inmet.gov.br, "dados
históricos"); no API serves it. A user drops the years in the landing folder. Like the ERP store:

* each ZIP is registered by content hash, kept byte for byte in `files/<hash>/<name>`, and its
  station's hourly rows in `parsed/<hash>.parquet`; a hash already registered is skipped, whatever
  the file is called now, so a folder of years can stay where it is;
* a ZIP that is not one, lacks the station or has an unreadable CSV is moved to `<landing>/rejected/`
  with a `.reason.txt`, and nothing registered before changes;
* the daily table is rebuilt from the hours of every accepted ZIP together, because a local day can
  straddle two yearly files (31 December after 21:00 in Salvador is 1 January in UTC).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from nova_assets.lib import lake
from nova_assets.lib.sources.erp_files import file_content_hash
from nova_assets.lib.sources.inmet import HISTORICAL_SOURCE, hourly_from_archive
from nova_assets.lib.sources.landing import landing_files, move_aside, write_atomic
from nova_assets.lib.sources.snapshots import SourceUnavailable
from nova_assets.lib.sources.weather import DAILY_COLUMNS, daily_from_hourly

MANIFEST = "manifest.json"
ARCHIVE_SUFFIX = ".zip"


@dataclass(frozen=True)
class LoadedArchive:
    """One accepted yearly ZIP, as registered in the manifest."""

    content_hash: str
    file_name: str
    loaded_at: str  # UTC, ISO 8601
    hours: int  # hourly rows of the station
    first_hour_utc: str
    last_hour_utc: str


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

    def ingest(self, landing: Path) -> ArchiveReport:
        """Register every new ZIP of the landing folder; move unreadable ones aside."""
        report = ArchiveReport()
        archives = self.archives()
        known = {entry.content_hash: entry for entry in archives}
        for path in landing_files(landing):
            if path.suffix.lower() != ARCHIVE_SUFFIX:
                report.ignored.append(path.name)
                continue
            digest = file_content_hash(path)
            if digest in known:
                report.skipped.append(f"{path.name} (same content as {known[digest].file_name})")
                continue
            try:
                hourly = hourly_from_archive(path.read_bytes(), self.station)
            except (zipfile.BadZipFile, SourceUnavailable, ValueError, KeyError, UnicodeDecodeError) as exc:
                reason = f"{path.name}: {type(exc).__name__}: {exc}"
                moved = move_aside(path, reason, landing)
                report.rejected.append(f"INMET archive {path.name} rejected: {reason} (moved to {moved})")
                continue
            kept = self.root / "files" / digest / path.name
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, kept)
            lake.write_table(self.root, "parsed", digest, hourly)
            entry = LoadedArchive(
                digest, path.name, datetime.now(UTC).isoformat(timespec="seconds"), len(hourly),
                str(hourly["time_utc"].min()), str(hourly["time_utc"].max()),
            )  # fmt: skip
            archives.append(entry)
            known[digest] = entry
            report.loaded.append(entry)
            self._write_manifest(archives)  # after each file, so a crash loses at most one file's work
        return report

    def archives(self) -> list[LoadedArchive]:
        """Accepted ZIPs in load order."""
        path = self.root / MANIFEST
        if not path.exists():
            return []
        return [LoadedArchive(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]

    def daily(self) -> pd.DataFrame | None:
        """weather_daily rows (source 'inmet-historical') from every accepted ZIP; None without any."""
        entries = self.archives()
        if not entries:
            return None
        hourly = pd.concat(
            [lake.read_table(self.root, "parsed", entry.content_hash) for entry in entries], ignore_index=True
        )
        return daily_from_hourly(hourly, HISTORICAL_SOURCE)

    def _write_manifest(self, archives: list[LoadedArchive]) -> None:
        payload = json.dumps([asdict(entry) for entry in archives], ensure_ascii=False, indent=1)
        write_atomic(self.root / MANIFEST, payload.encode("utf-8"))


def empty_daily() -> pd.DataFrame:
    """weather_daily with no row, in the contract types (no archive yet)."""
    return pd.DataFrame(
        {column: pd.Series(dtype=object if column in ("date", "source") else "float64") for column in DAILY_COLUMNS}
    )
