"""The public sources of the raw layer: for each table, its live connector and its recorded stand-in.

Base URLs, the HTTP policy, the weather source and the INMET token come from `LiveSettings`, so the
real connectors can be pointed at another server (a mirror, or the tests' local server). The daily
series are daily-partitioned: a run asks for its days plus a lookback (`fetch_window`); the monthly
IPCA, and a daily table with no stored history yet, ask for HISTORY_START up to the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, inmet, openmeteo
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.snapshots import LiveSource, Snapshot

HISTORY_START = date(2015, 1, 1)
WEATHER_SOURCES = ("open-meteo", "inmet")
# days before a partition's first day fetched again: the weather archive publishes days ~5 days late,
# and BACEN occasionally revises a recent value
PARTITION_LOOKBACK_DAYS = 10

PUBLIC_TABLES: dict[str, str] = {
    "weather_daily": "Salvador daily weather (Open-Meteo archive, or INMET station A401 with a token); "
    "hourly UTC values aggregated into America/Bahia days",
    "economics_selic": "BACEN SGS 432: SELIC target rate (% a.a.), one row per calendar day",
    "economics_usd_brl": "BACEN PTAX USD closing sell rate (Olinda OData, Fechamento bulletin), business days",
    "economics_ipca": "IBGE SIDRA table 1737: IPCA monthly % change, Brasil",
}
DAILY_TABLES = ("weather_daily", "economics_selic", "economics_usd_brl")  # daily-partitioned series


@dataclass(frozen=True)
class LiveSettings:
    """Where and how the live sources are called."""

    as_of: date
    policy: HttpPolicy = DEFAULT_POLICY
    bacen_sgs_url: str = bacen_sgs.BASE_URL
    bacen_ptax_url: str = bacen_ptax.BASE_URL
    ibge_sidra_url: str = ibge_sidra.BASE_URL
    openmeteo_url: str = openmeteo.BASE_URL
    inmet_url: str = inmet.BASE_URL
    weather_source: str = "open-meteo"
    inmet_token: str = ""
    inmet_station: str = inmet.SALVADOR_STATION
    history_start: date = HISTORY_START


@dataclass(frozen=True)
class SourcePlan:
    """What an asset fetches for one table, and notes on choices the user should know about."""

    live: LiveSource
    snapshot: Snapshot
    notes: tuple[str, ...] = ()


def fetch_window(
    first_day: date, last_day: date, settings: LiveSettings, stored_until: date | None
) -> tuple[date, date]:
    """The days a partition run of first_day..last_day asks a daily source for.

    Those days plus PARTITION_LOOKBACK_DAYS before them, and back to the day after the newest stored
    day (`stored_until`) when that is earlier, so a cycle after days of downtime catches up; all of
    HISTORY_START.. when nothing is stored yet. Never after the as-of date: a source has nothing
    later, and the date checks would refuse it.
    """
    end = min(last_day, settings.as_of)
    if stored_until is None:
        start = settings.history_start
    else:
        start = min(first_day - timedelta(days=PARTITION_LOOKBACK_DAYS), stored_until + timedelta(days=1))
    return min(max(start, settings.history_start), end), end


def plan_source(
    table: str, settings: LiveSettings, snapshot_dir: Path, offline: bool, window: tuple[date, date] | None = None
) -> SourcePlan:
    """The connector and snapshot of `table` (a key of PUBLIC_TABLES) for the days of `window`
    (default: HISTORY_START to the as-of date)."""
    s = settings
    start, end = window or (settings.history_start, settings.as_of)
    if table == "weather_daily":
        return _weather_plan(settings, snapshot_dir, offline, start, end)
    if table == "economics_selic":
        live = LiveSource(
            f"bacen-sgs-{bacen_sgs.SELIC_META}",
            lambda: bacen_sgs.fetch_sgs_raw(s.bacen_sgs_url, bacen_sgs.SELIC_META, start, end, s.policy),
            bacen_sgs.parse_sgs,
        )
        return SourcePlan(live, Snapshot(snapshot_dir / bacen_sgs.SNAPSHOT_SELIC, bacen_sgs.parse_sgs))
    if table == "economics_usd_brl":
        live = LiveSource(
            "bacen-ptax-usd",
            lambda: bacen_ptax.fetch_ptax_raw(s.bacen_ptax_url, start, end, policy=s.policy),
            bacen_ptax.parse_ptax,
        )
        return SourcePlan(live, Snapshot(snapshot_dir / bacen_ptax.SNAPSHOT, bacen_ptax.parse_ptax))
    if table == "economics_ipca":
        periods = f"{start:%Y%m}-{end:%Y%m}"
        live = LiveSource(
            "ibge-sidra-ipca",
            lambda: ibge_sidra.fetch_sidra_raw(s.ibge_sidra_url, periods, policy=s.policy),
            ibge_sidra.parse_sidra,
        )
        return SourcePlan(live, Snapshot(snapshot_dir / ibge_sidra.SNAPSHOT, ibge_sidra.parse_sidra))
    raise ValueError(f"unknown public source table {table!r}; expected one of {sorted(PUBLIC_TABLES)}")


def _weather_plan(s: LiveSettings, snapshot_dir: Path, offline: bool, start: date, end: date) -> SourcePlan:
    """Open-Meteo by default; INMET when chosen and a token is set. No INMET answer is recorded, so the
    Open-Meteo snapshot stands in for both (the table's `source` column says which one it is)."""
    if s.weather_source not in WEATHER_SOURCES:
        raise ValueError(f"NOVA_WEATHER_SOURCE={s.weather_source!r}: expected one of {', '.join(WEATHER_SOURCES)}")
    snapshot = Snapshot(snapshot_dir / openmeteo.SNAPSHOT, openmeteo.parse_openmeteo)
    notes: list[str] = []
    if s.weather_source == "inmet":
        if offline:
            notes.append("NOVA_WEATHER_SOURCE=inmet, but offline: the recorded Open-Meteo answer stands in")
        elif s.inmet_token:
            live = LiveSource(
                f"inmet-{s.inmet_station.lower()}",
                lambda: inmet.fetch_inmet_range(s.inmet_url, s.inmet_token, start, end, s.inmet_station, s.policy),
                inmet.parse_inmet_api,
            )
            return SourcePlan(live, snapshot)
        else:
            notes.append("NOVA_WEATHER_SOURCE=inmet but NOVA_INMET_TOKEN is not set: using Open-Meteo instead")
    live = LiveSource(
        "open-meteo",
        lambda: openmeteo.fetch_openmeteo_raw(s.openmeteo_url, start, end, policy=s.policy),
        openmeteo.parse_openmeteo,
    )
    return SourcePlan(live, snapshot, tuple(notes))
