"""The public sources of the raw layer: for each table, its live connector and its recorded stand-in.

Base URLs, the HTTP policy, the weather source and the INMET token come from `LiveSettings`, so the
real connectors can be pointed at another server (a mirror, or the tests' local server). Live
requests cover HISTORY_START up to the cycle's as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, inmet, openmeteo
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.snapshots import LiveSource, Snapshot

HISTORY_START = date(2015, 1, 1)
WEATHER_SOURCES = ("open-meteo", "inmet")

PUBLIC_TABLES: dict[str, str] = {
    "weather_daily": "Salvador daily weather (Open-Meteo archive, or INMET station A401 with a token); "
    "hourly UTC values aggregated into America/Bahia days",
    "economics_selic": "BACEN SGS 432: SELIC target rate (% a.a.), one row per calendar day",
    "economics_usd_brl": "BACEN PTAX USD closing sell rate (Olinda OData, Fechamento bulletin), business days",
    "economics_ipca": "IBGE SIDRA table 1737: IPCA monthly % change, Brasil",
}


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


def plan_source(table: str, settings: LiveSettings, snapshot_dir: Path, offline: bool) -> SourcePlan:
    """The connector and snapshot of `table` (a key of PUBLIC_TABLES)."""
    s, start, end = settings, settings.history_start, settings.as_of
    if table == "weather_daily":
        return _weather_plan(settings, snapshot_dir, offline)
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


def _weather_plan(s: LiveSettings, snapshot_dir: Path, offline: bool) -> SourcePlan:
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
                lambda: inmet.fetch_inmet_range(
                    s.inmet_url, s.inmet_token, s.history_start, s.as_of, s.inmet_station, s.policy
                ),
                inmet.parse_inmet_api,
            )
            return SourcePlan(live, snapshot)
        else:
            notes.append("NOVA_WEATHER_SOURCE=inmet but NOVA_INMET_TOKEN is not set: using Open-Meteo instead")
    live = LiveSource(
        "open-meteo",
        lambda: openmeteo.fetch_openmeteo_raw(s.openmeteo_url, s.history_start, s.as_of, policy=s.policy),
        openmeteo.parse_openmeteo,
    )
    return SourcePlan(live, snapshot, tuple(notes))
