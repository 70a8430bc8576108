"""The public sources of the raw layer as a registry (PUBLIC_SOURCES): per raw table, its description,
data contract, dbt staging model, the APIs it calls and how it is fetched live or read from its recording.

Base URLs, the HTTP policy, the weather source and the INMET token come from `LiveSettings`, so the
real connectors can be pointed at another server (a mirror, or the tests' local server); each API's
base-URL setting (NOVA_<ENDPOINT>_URL) is registered in nova_assets/settings.py from ENDPOINTS
(nova_assets/lib/sources/endpoints.py, which imports no connector). The daily
series are daily-partitioned: a run asks for its days plus a lookback (`fetch_window`); the monthly
IPCA, and a daily table with no stored history yet, ask for HISTORY_START up to the as-of date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, inmet, openmeteo
from nova_assets.lib.sources.contract import TODAY, WEATHER_COLUMNS, Calendar, DateBound, Freshness, TableRules
from nova_assets.lib.sources.endpoints import (
    BACEN_PTAX,
    BACEN_SGS,
    IBGE_SIDRA,
    INMET,
    OPENMETEO,
    SALVADOR_STATION,
    WEATHER_SOURCES,
    Endpoint,
)
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.snapshots import LiveSource, Snapshot

HISTORY_START = date(2015, 1, 1)
# days before a partition's first day fetched again: the weather archive publishes days ~5 days late,
# and BACEN occasionally revises a recent value
PARTITION_LOOKBACK_DAYS = 10


@dataclass(frozen=True)
class LiveSettings:
    """Where and how the live sources are called; `urls` maps an endpoint name to another base URL."""

    as_of: date
    policy: HttpPolicy = DEFAULT_POLICY
    urls: Mapping[str, str] = field(default_factory=dict)
    weather_source: str = "open-meteo"
    inmet_token: str = ""
    inmet_station: str = SALVADOR_STATION
    history_start: date = HISTORY_START

    def url(self, endpoint: Endpoint) -> str:
        return self.urls.get(endpoint.name) or endpoint.base_url


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


def _selic_plan(s: LiveSettings, snapshot_dir: Path, offline: bool, start: date, end: date) -> SourcePlan:
    live = LiveSource(
        f"bacen-sgs-{bacen_sgs.SELIC_META}",
        lambda: bacen_sgs.fetch_sgs_raw(s.url(BACEN_SGS), bacen_sgs.SELIC_META, start, end, s.policy),
        bacen_sgs.parse_sgs,
    )
    return SourcePlan(live, Snapshot(snapshot_dir / bacen_sgs.SNAPSHOT_SELIC, bacen_sgs.parse_sgs))


def _ptax_plan(s: LiveSettings, snapshot_dir: Path, offline: bool, start: date, end: date) -> SourcePlan:
    live = LiveSource(
        "bacen-ptax-usd",
        lambda: bacen_ptax.fetch_ptax_raw(s.url(BACEN_PTAX), start, end, policy=s.policy),
        bacen_ptax.parse_ptax,
    )
    return SourcePlan(live, Snapshot(snapshot_dir / bacen_ptax.SNAPSHOT, bacen_ptax.parse_ptax))


def _ipca_plan(s: LiveSettings, snapshot_dir: Path, offline: bool, start: date, end: date) -> SourcePlan:
    periods = f"{start:%Y%m}-{end:%Y%m}"
    live = LiveSource(
        "ibge-sidra-ipca",
        lambda: ibge_sidra.fetch_sidra_raw(s.url(IBGE_SIDRA), periods, policy=s.policy),
        ibge_sidra.parse_sidra,
    )
    return SourcePlan(live, Snapshot(snapshot_dir / ibge_sidra.SNAPSHOT, ibge_sidra.parse_sidra))


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
                lambda: inmet.fetch_inmet_range(s.url(INMET), s.inmet_token, start, end, s.inmet_station, s.policy),
                inmet.parse_inmet_api,
            )
            return SourcePlan(live, snapshot)
        else:
            notes.append("NOVA_WEATHER_SOURCE=inmet but NOVA_INMET_TOKEN is not set: using Open-Meteo instead")
    live = LiveSource(
        "open-meteo",
        lambda: openmeteo.fetch_openmeteo_raw(s.url(OPENMETEO), start, end, policy=s.policy),
        openmeteo.parse_openmeteo,
    )
    return SourcePlan(live, snapshot, tuple(notes))


Planner = Callable[[LiveSettings, Path, bool, date, date], SourcePlan]


@dataclass(frozen=True)
class PublicSource:
    """One public source of the raw layer: everything about it but its parser and its dbt staging model.

    Adding a source is one entry in PUBLIC_SOURCES plus its connector module (fetch + parse), its
    staging model and, for a new API, its Endpoint (lib/sources/endpoints.py): the raw asset, its asset
    checks, the base-URL setting (nova_assets/settings.py) and the test that the dbt source and staging
    model exist all come from these.
    """

    table: str  # raw table, asset key ["raw", table], the `raw` dbt source's table of the same name
    description: str
    rules: TableRules  # the data contract, checked before every write (lib.sources.quality)
    staging_model: str  # the dbt model that reads the table (dbt_project/features/models/staging/<name>.sql)
    plan: Planner | None = None  # how the table is fetched live / read offline; None: its own asset
    endpoints: tuple[Endpoint, ...] = ()  # the APIs it calls, one base-URL setting each
    daily: bool = False  # daily-partitioned, like the dbt models


def _daily_rate_rules(calendar: Calendar, max_lag_days: int) -> TableRules:
    """A daily economic series: one non-negative value per date of `calendar`."""
    return TableRules(
        columns={"date": "date", "value": "float"},
        required=("date", "value"),
        key=("date",),
        dates={"date": TODAY},
        non_negative=("value",),
        series=("date", calendar),
        freshness=Freshness("date", max_lag_days),
    )


PUBLIC_SOURCES: dict[str, PublicSource] = {
    source.table: source
    for source in (
        PublicSource(
            "weather_daily",
            "Salvador daily weather (Open-Meteo archive, or INMET station A401 with a token); "
            "hourly UTC values aggregated into America/Bahia days",
            TableRules(
                columns=WEATHER_COLUMNS,
                required=("date", "source"),
                key=("date",),
                dates={"date": TODAY},
                non_negative=("humidity_avg", "precipitation_mm", "wind_speed_max"),
                series=("date", "daily"),
                freshness=Freshness("date", 7, value_column="temp_avg"),  # the archive lags ~5 days
            ),
            "stg_weather__daily",
            _weather_plan,
            (OPENMETEO, INMET),
            daily=True,
        ),
        PublicSource(
            "economics_selic",
            "BACEN SGS 432: SELIC target rate (% a.a.), one row per calendar day",
            _daily_rate_rules("daily", max_lag_days=3),
            "stg_economics__selic",
            _selic_plan,
            (BACEN_SGS,),
            daily=True,
        ),
        PublicSource(
            "economics_usd_brl",
            "BACEN PTAX USD closing sell rate (Olinda OData, Fechamento bulletin), business days",
            _daily_rate_rules("business", max_lag_days=5),  # a long weekend (Carnaval: Saturday to Wednesday)
            "stg_economics__usd_brl",
            _ptax_plan,
            (BACEN_PTAX,),
            daily=True,
        ),
        PublicSource(
            "economics_ipca",
            "IBGE SIDRA table 1737: IPCA monthly % change, Brasil",
            TableRules(
                columns={"month": "date", "value": "float"},
                required=("month", "value"),
                key=("month",),
                dates={"month": TODAY},
                series=("month", "monthly"),
                freshness=Freshness("month", 75),  # IPCA of month M is published around the 10th of M+1
            ),
            "stg_economics__ipca",
            _ipca_plan,
            (IBGE_SIDRA,),
        ),
        PublicSource(
            "anatel_5g_monthly",
            "Monthly new and cumulative 5G (NR) stations in Salvador, from the newest readable ANATEL export "
            "dropped in the landing folder (ANATEL has no API for it)",
            TableRules(
                columns={"month": "date", "ibge_code": "str", "stations_5g_new": "int", "stations_5g_total": "int"},
                required=("month", "ibge_code"),
                key=("month", "ibge_code"),
                dates={"month": TODAY},
                non_negative=("stations_5g_new", "stations_5g_total"),
                series=("month", "monthly"),
                freshness=Freshness("month", 92),
            ),
            "stg_anatel__5g_monthly",
        ),
        PublicSource(
            "holidays",
            "National, state (BA), optional and municipal holidays from the `holidays` package",
            TableRules(
                columns={"date": "date", "name": "str", "scope": "str", "is_major": "bool"},
                required=("date", "name", "scope"),
                key=("date",),
                dates={"date": DateBound(next_year_end=True)},
            ),
            "stg_calendar__holidays",
        ),
    )
}
# the sources fetched from an API (live) or a recorded snapshot (offline), by the assets of defs/ingest/public_apis.py
PUBLIC_TABLES: dict[str, PublicSource] = {table: s for table, s in PUBLIC_SOURCES.items() if s.plan is not None}
DAILY_TABLES = tuple(table for table, source in PUBLIC_TABLES.items() if source.daily)


def plan_source(
    table: str, settings: LiveSettings, snapshot_dir: Path, offline: bool, window: tuple[date, date] | None = None
) -> SourcePlan:
    """The connector and snapshot of `table` (a key of PUBLIC_TABLES) for the days of `window`
    (default: HISTORY_START to the as-of date)."""
    source = PUBLIC_TABLES.get(table)
    if source is None or source.plan is None:
        raise ValueError(f"unknown public source table {table!r}; expected one of {sorted(PUBLIC_TABLES)}")
    start, end = window or (settings.history_start, settings.as_of)
    return source.plan(settings, snapshot_dir, offline, start, end)
