"""Checks of the raw tables against the data contract, and the quality score of each source.

Every raw table has a `TableRules` entry: its columns and types (data/README.md), its key, its date
columns and their sane range, the columns that may not be negative, the codes that must exist in the
masters, the calendar its series must cover without gaps, and how late its newest date may be.
`evaluate` turns the rules into `CheckOutcome`s; the Dagster assets report them as asset checks and
write the table only when no blocking check failed, so bad data never replaces the last good table.

Quality score of a source = the mean, over its checks, of each check's score: the share of rows
(days for `no_gaps`, files for `rows_loaded`) that pass it; `schema` and `fresh` score 1 or 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import holidays
import pandas as pd
import pyarrow as pa

from nova_assets.lib.local_time import today
from nova_assets.lib.sources.contract import (
    CHECKS,
    TODAY,
    WEATHER_COLUMNS,
    Calendar,
    DateBound,
    Freshness,
    Kind,
    TableRules,
)
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.lib.sources.landing import write_atomic
from nova_assets.lib.sources.public import PUBLIC_SOURCES

EARLIEST = date(2000, 1, 1)
MAX_QUARANTINED_SHARE = 0.01  # rows_loaded passes while at most 1% of a table's rows are quarantined
EXAMPLES = 5
STATUS_DIR = "status"  # lake folder of the per-source status files
# status key: what the table in the lake is built from, kept while a blocked rebuild keeps the table
BUILT_FROM = "built_from"
# the warning-only code checks of the ERP tables: check -> (column, master table)
KNOWN_CODES = {"known_sites": ("site_id", "erp_sites"), "known_equipment": ("equipment_id", "erp_installed_base")}
MOVEMENT_BUSINESS_KEY = ("movement_date", "material_id", "site_id", "movement_type", "quantity")

ARROW_TYPES: dict[Kind, Callable[[pa.DataType], bool]] = {
    "str": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t),
    "float": pa.types.is_float64,
    "int": pa.types.is_int64,
    "date": lambda t: pa.types.is_date32(t) or pa.types.is_null(t),
    "bool": pa.types.is_boolean,
}


@dataclass(frozen=True)
class CheckOutcome:
    """One check on one table: passed or not, the share of data that passed, and what was found."""

    name: str
    passed: bool
    score: float
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    blocks: bool | None = None  # whether this failure stops the table; None: the check's own rule (CHECKS)

    @property
    def blocking(self) -> bool:
        return CHECKS[self.name][1] if self.blocks is None else self.blocks


@dataclass(frozen=True)
class CheckContext:
    """What a check needs beyond the table itself."""

    as_of: date
    origin: str = "file"  # for public sources: 'live', 'snapshot', or a fallback description
    fallback: bool = False  # a live fetch failed and older data stands in
    materials: frozenset[str] | None = None
    sites: frozenset[str] | None = None
    equipment: frozenset[str] | None = None
    good_rows: int | None = None  # ERP: rows loaded / quarantined from the table's accepted files
    quarantined_rows: int = 0
    rejected_files: Sequence[str] = ()  # ERP: files of this table rejected in this run


def _erp_rules(table: str, **extra: Any) -> TableRules:
    spec = ERP_TABLES[table]
    columns: dict[str, Kind] = {name: column.kind for name, column in spec.columns.items()}
    if table == "erp_movements":
        columns["source_file"] = "str"
    non_negative = tuple(name for name, column in spec.columns.items() if column.nonnegative or column.positive)
    required = tuple(name for name, column in spec.columns.items() if column.required)
    key = extra.pop("key", spec.key)
    return TableRules(
        columns=columns,
        required=required,
        key=key,
        non_negative=non_negative,
        loaded_from_files=True,
        plausible=True,
        replacement=table == "erp_movements",
        **extra,
    )


RULES: dict[str, TableRules] = {
    "erp_materials": _erp_rules("erp_materials"),
    "erp_sites": _erp_rules("erp_sites"),
    "erp_suppliers": _erp_rules("erp_suppliers"),
    "erp_movements": _erp_rules(
        "erp_movements",
        key=MOVEMENT_BUSINESS_KEY,  # without a movement id, identical business rows are one movement
        row_id="movement_id",
        dates={"movement_date": TODAY},
        codes={"material_id": "known_materials", "site_id": "known_sites"},
        freshness=Freshness("movement_date", 3),
    ),
    "erp_stock": _erp_rules(
        "erp_stock",
        dates={"snapshot_date": TODAY},
        codes={"material_id": "known_materials", "site_id": "known_sites"},
        freshness=Freshness("snapshot_date", 7),
    ),
    "erp_open_orders": _erp_rules(
        "erp_open_orders",
        min_rows=0,  # no open purchase order is a valid state
        dates={"order_date": TODAY, "expected_date": DateBound(days_after=5 * 366)},
        codes={"material_id": "known_materials"},
    ),
    "erp_purchase_orders": _erp_rules(
        "erp_purchase_orders",
        min_rows=0,  # an ERP without a purchase-order export: supplier performance stays empty
        dates={"order_date": TODAY, "promised_date": DateBound(days_after=5 * 366)},
        codes={"material_id": "known_materials", "site_id": "known_sites"},
    ),
    # maintenance (lib/maintenance/contracts.py): optional, an ERP without plant maintenance has none
    "erp_installed_base": _erp_rules(
        "erp_installed_base",
        min_rows=0,
        dates={"install_date": TODAY, "decommission_date": DateBound(days_after=5 * 366)},  # planned ones ahead
        codes={"site_id": "known_sites"},
    ),
    "erp_work_orders": _erp_rules(
        "erp_work_orders",
        min_rows=0,
        dates={
            "created_date": TODAY,
            "planned_date": DateBound(days_after=2 * 366),  # the plan: preventive orders known ahead
            "failure_date": TODAY,
            "completion_date": TODAY,
        },
        codes={"site_id": "known_sites", "equipment_id": "known_equipment"},
    ),
    "erp_work_order_parts": _erp_rules("erp_work_order_parts", min_rows=0, codes={"material_id": "known_materials"}),
    # the yearly INMET files: history, so no freshness; gaps (station outages) are filled in weather_daily
    "weather_inmet_history": TableRules(
        columns=WEATHER_COLUMNS,
        required=("date", "source"),
        min_rows=0,  # no archive dropped yet
        key=("date",),
        dates={"date": TODAY},
        non_negative=("humidity_avg", "precipitation_mm", "wind_speed_max"),
        loaded_from_files=True,  # rows_loaded fails when an archive was rejected in this run
    ),
    **{table: source.rules for table, source in PUBLIC_SOURCES.items()},
}


def resolve_as_of(setting: str, offline: bool, recorded_on: date) -> date:
    """The cycle's as-of date: NOVA_AS_OF_DATE if set; live, today in Salvador; offline, the day the
    snapshots were recorded (the offline cycle replays that day, so its data is as fresh as it was then)."""
    if setting.strip():
        try:
            return date.fromisoformat(setting.strip())
        except ValueError as exc:
            raise ValueError(f"NOVA_AS_OF_DATE={setting!r}: expected a date as YYYY-MM-DD") from exc
    return recorded_on if offline else today()


def evaluate(table: str, frame: pd.DataFrame, context: CheckContext) -> list[CheckOutcome]:
    """Every check of `table` on `frame`. A frame failing `schema` gets the other checks marked as not run."""
    rules = RULES[table]
    schema = _schema(frame, rules)
    outcomes = [schema]
    for name in rules.check_names()[1:]:
        if not schema.passed and name != "rows_loaded":
            outcomes.append(CheckOutcome(name, False, 0.0, "not evaluated: the schema check failed"))
            continue
        outcomes.append(_CHECKERS[name](frame, rules, context))
    return outcomes


def quality_score(outcomes: Sequence[CheckOutcome]) -> float:
    """Mean of the checks' scores (module doc), rounded to 3 decimals; 0 without any check."""
    return round(sum(o.score for o in outcomes) / len(outcomes), 3) if outcomes else 0.0


def write_status(lake_dir: Path, table: str, status: Mapping[str, Any]) -> Path:
    """Record a source's latest check (origin, fallback warning, score, newest date) in `status/<table>.json`.

    One file per source, so assets running in parallel never write the same file; `read_statuses`
    gives later steps (alerts, reports) the state of every source in one frame.
    """
    return write_atomic(lake_dir / STATUS_DIR / f"{table}.json", json.dumps(status, ensure_ascii=False).encode())


def read_status(lake_dir: Path, table: str) -> dict[str, Any] | None:
    """One source's latest status (see write_status); None before its first check."""
    try:
        return json.loads((lake_dir / STATUS_DIR / f"{table}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def read_built_from(lake_dir: Path, table: str) -> dict[str, Any] | None:
    """The BUILT_FROM record the table in the lake was published with; None when there is none to read
    (no status, none recorded, or a status that cannot be read)."""
    try:
        record = (read_status(lake_dir, table) or {}).get(BUILT_FROM)
    except (OSError, ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None


def read_statuses(lake_dir: Path) -> pd.DataFrame:
    """Every source's latest status (see write_status), one row per raw table."""
    paths = sorted((lake_dir / STATUS_DIR).glob("*.json"))
    return pd.DataFrame([json.loads(path.read_text(encoding="utf-8")) for path in paths])


def latest_date(frame: pd.DataFrame, freshness: Freshness) -> date | None:
    """Newest date of the freshness column that carries a value; None for an empty or malformed table."""
    if freshness.column not in frame or (freshness.value_column and freshness.value_column not in frame):
        return None
    rows = frame if freshness.value_column is None else frame[frame[freshness.value_column].notna()]
    dates = pd.to_datetime(rows[freshness.column], errors="coerce").dropna()
    return dates.max().date() if len(dates) else None


# -- the checks ------------------------------------------------------------------------------------


def _schema(frame: pd.DataFrame, rules: TableRules) -> CheckOutcome:
    missing = [c for c in rules.columns if c not in frame.columns]
    wrong = {}
    for column, kind in rules.columns.items():
        if column in frame.columns:
            arrow_type = _arrow_type(frame[column])
            if isinstance(arrow_type, str) or not ARROW_TYPES[kind](arrow_type):
                wrong[column] = f"{arrow_type} (expected {kind})"
    nulls = {c: int(frame[c].isna().sum()) for c in rules.required if c in frame.columns and frame[c].isna().any()}
    return _schema_outcome(missing, wrong, nulls, len(frame), list(map(str, frame.columns)), rules)


def _schema_outcome(
    missing: list[str], wrong: dict[str, str], nulls: dict[str, int], rows: int, columns: list[str], rules: TableRules
) -> CheckOutcome:
    problems = []
    if missing:
        problems.append(f"missing columns {missing}")
    if wrong:
        problems.append(f"wrong types {wrong}")
    if nulls:
        problems.append(f"missing values in required columns {nulls}")
    if rows < rules.min_rows:
        problems.append(f"{rows} rows (at least {rules.min_rows} expected)")
    passed = not problems
    metadata = {"rows": rows, "columns": columns}
    return CheckOutcome("schema", passed, 1.0 if passed else 0.0, "; ".join(problems) or "contract schema", metadata)


def _arrow_type(values: pd.Series) -> pa.DataType | str:
    """The Parquet (Arrow) type the column would be written as; 'mixed types' if it has none."""
    try:
        return pa.array(values, from_pandas=True).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return "mixed types"


def _date_range(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    bad = pd.Series(False, index=frame.index)
    found: dict[str, Any] = {}
    for column, bound in rules.dates.items():
        latest = bound.latest(context.as_of)
        dates = pd.to_datetime(frame[column], errors="coerce")
        out = dates.notna() & ((dates < pd.Timestamp(EARLIEST)) | (dates > pd.Timestamp(latest)))
        if out.any():
            found[column] = {
                "rows": int(out.sum()),
                "allowed": f"{EARLIEST}..{latest}",
                "examples": sorted({str(d.date()) for d in dates[out]})[:EXAMPLES],
            }
        bad |= out
    return _row_share("date_range", frame, bad, found, f"as-of {context.as_of}")


def _unique_key(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    keys = frame[list(rules.key)].astype(object)
    scope = "+".join(rules.key)
    if rules.row_id:  # a row with an id is compared on the id alone
        ids = frame[rules.row_id]
        keys = keys.mask(ids.notna(), None).assign(**{rules.row_id: ids})
        scope = f"{rules.row_id}, else {scope}"
    duplicated = keys.duplicated(keep="first")
    found: dict[str, Any] = {}
    if duplicated.any():
        examples = keys[duplicated].head(EXAMPLES).apply(lambda row: "|".join(map(str, row.dropna())), axis=1)
        found = {"key": scope, "examples": examples.tolist()}
    return _row_share("unique_key", frame, duplicated, found, scope)


def _non_negative(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    bad = pd.Series(False, index=frame.index)
    found = {}
    for column in rules.non_negative:
        negative = pd.to_numeric(frame[column], errors="coerce") < 0
        if negative.any():
            examples = frame.loc[negative, column].head(EXAMPLES).tolist()
            found[column] = {"rows": int(negative.sum()), "examples": examples}
        bad |= negative
    return _row_share("non_negative", frame, bad, found, ", ".join(rules.non_negative))


def _known_codes(name: str, reference_name: str) -> Callable[[pd.DataFrame, TableRules, CheckContext], CheckOutcome]:
    def check(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
        reference = {"known_materials": context.materials, "known_sites": context.sites}.get(name, context.equipment)
        column = next(c for c, check_name in rules.codes.items() if check_name == name)
        if reference is None:
            return CheckOutcome(name, False, 0.0, f"{reference_name} is not available to compare {column} with")
        unknown = frame[column].notna() & ~frame[column].isin(reference)
        found = {}
        if unknown.any():
            counts = frame.loc[unknown, column].value_counts()
            found = {"unknown_codes": len(counts), "examples": counts.head(EXAMPLES).index.tolist()}
        return _row_share(name, frame, unknown, found, f"{column} in {reference_name}")

    return check


def _no_gaps(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    assert rules.series is not None
    column, calendar = rules.series
    present = pd.DatetimeIndex(pd.to_datetime(frame[column]).dropna().unique()).sort_values()
    if present.empty:
        return CheckOutcome("no_gaps", False, 0.0, "empty series")
    expected = expected_dates(present.min().date(), present.max().date(), calendar)
    missing = expected.difference(present)
    score = 1 - len(missing) / len(expected)
    examples = [str(d.date()) for d in missing[:EXAMPLES]]
    description = (
        f"{len(missing)} of {len(expected)} {calendar} dates missing, e.g. {examples}"
        if len(missing)
        else f"no gap in {len(expected)} {calendar} dates"
    )
    return CheckOutcome(
        "no_gaps",
        missing.empty,
        score,
        description,
        {"expected": len(expected), "missing": len(missing), "missing_examples": examples},
    )


def expected_dates(first: date, last: date, calendar: Calendar) -> pd.DatetimeIndex:
    """The dates a series must hold between its first and last: every day, every month start, or every
    Brazilian business day (weekdays outside the B3/BVMF holiday calendar, which BACEN follows for PTAX)."""
    if calendar == "daily":
        return pd.date_range(first, last, freq="D")
    if calendar == "monthly":
        return pd.date_range(first, last, freq="MS")
    closed = holidays.financial_holidays("BVMF", years=range(first.year, last.year + 1))
    days = pd.bdate_range(first, last)
    return days[~days.isin(pd.DatetimeIndex(list(closed)))] if closed else days


def _fresh(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    assert rules.freshness is not None
    return _fresh_of(latest_date(frame, rules.freshness), rules, context)


def _fresh_of(latest: date | None, rules: TableRules, context: CheckContext) -> CheckOutcome:
    assert rules.freshness is not None
    lag = (context.as_of - latest).days if latest else None
    metadata = {
        "latest_date": str(latest),
        "as_of": str(context.as_of),
        "lag_days": lag,
        "max_lag_days": rules.freshness.max_lag_days,
        "origin": context.origin,
    }
    if context.fallback:
        return CheckOutcome("fresh", False, 0.0, f"stale: live fetch failed, data from {context.origin}", metadata)
    if lag is None:
        return CheckOutcome("fresh", False, 0.0, "stale: no dated row", metadata)
    if lag > rules.freshness.max_lag_days:
        return CheckOutcome(
            "fresh",
            False,
            0.0,
            f"stale: newest {rules.freshness.column} {latest} is {lag} days before the as-of date {context.as_of} "
            f"(at most {rules.freshness.max_lag_days})",
            metadata,
        )
    return CheckOutcome("fresh", True, 1.0, f"newest {rules.freshness.column} {latest}, {lag} days old", metadata)


def _rows_loaded(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    good = len(frame) if context.good_rows is None else context.good_rows
    total = good + context.quarantined_rows
    share = context.quarantined_rows / total if total else 0.0
    problems = []
    if share > MAX_QUARANTINED_SHARE:
        problems.append(f"{context.quarantined_rows} of {total} rows quarantined ({share:.1%})")
    if context.rejected_files:
        problems.append(f"rejected in this run: {'; '.join(context.rejected_files)}")
    metadata = {
        "quarantined_rows": context.quarantined_rows,
        "loaded_rows": good,
        "rejected_files": list(context.rejected_files),
    }
    description = "; ".join(problems) or f"{context.quarantined_rows} of {total} rows quarantined"
    return CheckOutcome("rows_loaded", not problems, 1 - share if total else 1.0, description, metadata)


def _row_share(name: str, frame: pd.DataFrame, bad: pd.Series, found: dict[str, Any], scope: str) -> CheckOutcome:
    n_bad = int(bad.sum())
    score = 1 - n_bad / len(frame) if len(frame) else 1.0
    description = f"{n_bad} of {len(frame)} rows fail ({scope}): {found}" if n_bad else f"all {len(frame)} rows pass"
    return CheckOutcome(name, n_bad == 0, round(score, 6), description, {"failing_rows": n_bad, **found})


def _plausible(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    """On a table alone: the columns' default plausible ranges (the ERP build also checks history)."""
    bad = pd.Series(False, index=frame.index)
    found = {}
    for column, spec in ERP_TABLES[_table_of(rules)].columns.items():
        if spec.limits is None or column not in frame:
            continue
        low, high = spec.limits
        values = pd.to_numeric(frame[column], errors="coerce")
        outside = (values < low if low is not None else False) | (values > high if high is not None else False)
        if outside.any():
            found[column] = {"rows": int(outside.sum()), "examples": frame.loc[outside, column].head(EXAMPLES).tolist()}
        bad |= outside
    return _row_share("plausible", frame, bad, found, "plausible ranges")


def _replacement(frame: pd.DataFrame, rules: TableRules, context: CheckContext) -> CheckOutcome:
    return CheckOutcome("replacement", True, 1.0, "replacements are measured when the table is rebuilt from its files")


def _table_of(rules: TableRules) -> str:
    return next(table for table, candidate in RULES.items() if candidate is rules)


def erp_outcomes(
    table: str,
    facts: Mapping[str, Any],
    held_back: Mapping[str, int],
    held_back_examples: Mapping[str, list[str]],
    removals: Sequence[str],
    context: CheckContext,
    max_held_back_share: float,
) -> list[CheckOutcome]:
    """The checks of an ERP table rebuilt in DuckDB, from what the build measured (`erp_build.table_facts`)
    and held back. A check whose rows were held back fails as a warning, blocking only when the share
    held back exceeds `max_held_back_share`."""
    rules = RULES[table]
    rows = int(facts["rows"])
    schema = _schema_of_facts(facts, rules)
    outcomes = [schema]
    for name in rules.check_names()[1:]:
        if not schema.passed and name != "rows_loaded":
            outcomes.append(CheckOutcome(name, False, 0.0, "not evaluated: the schema check failed"))
        elif name in ("date_range", "known_materials", "plausible"):
            outside = sum(int(facts.get(f"out_{c}", 0)) for c in rules.dates) if name == "date_range" else 0
            outside += int(facts.get(f"unknown_{name}", 0))
            outcomes.append(_held_back_outcome(name, rows, outside, held_back, held_back_examples, max_held_back_share))
        elif name == "unique_key":
            duplicates = int(facts.get("duplicates", 0))
            scope = f"{rules.row_id}, else {'+'.join(rules.key)}" if rules.row_id else "+".join(rules.key)
            found = {"key": scope, "examples": facts.get("duplicate_examples", [])} if duplicates else {}
            outcomes.append(_counted("unique_key", rows, duplicates, found, scope))
        elif name == "non_negative":
            counts = {c: int(facts.get(f"negative_{c}", 0)) for c in rules.non_negative}
            found = {c: {"rows": n} for c, n in counts.items() if n}
            outcomes.append(_counted("non_negative", rows, sum(counts.values()), found, ", ".join(rules.non_negative)))
        elif name in KNOWN_CODES:
            column, master = KNOWN_CODES[name]
            unknown = int(facts.get(f"unknown_{name}", 0))
            found = (
                {"unknown_codes": facts[f"unknown_{name}_codes"], "examples": facts[f"unknown_{name}_examples"]}
                if unknown
                else {}
            )
            if f"unknown_{name}_codes" not in facts:
                outcomes.append(CheckOutcome(name, False, 0.0, f"{master} is not available to compare {column} with"))
            else:
                outcomes.append(_counted(name, rows, unknown, found, f"{column} in {master}"))
        elif name == "replacement":
            outcomes.append(
                CheckOutcome(name, False, 0.0, "; ".join(removals), {"files": list(removals)})
                if removals
                else CheckOutcome(name, True, 1.0, "no file replaces far more rows than it brings")
            )
        elif name == "fresh":
            outcomes.append(_fresh_of(_as_date(facts.get("latest")), rules, context))
        elif name == "rows_loaded":
            outcomes.append(_rows_loaded(pd.DataFrame(index=range(rows)), rules, context))
    return outcomes


def _schema_of_facts(facts: Mapping[str, Any], rules: TableRules) -> CheckOutcome:
    kinds = {"VARCHAR": "str", "DOUBLE": "float", "BIGINT": "int", "DATE": "date", "BOOLEAN": "bool"}
    written: Mapping[str, str] = facts["schema"]
    missing = [c for c in rules.columns if c not in written]
    wrong = {
        c: f"{written[c]} (expected {kind})"
        for c, kind in rules.columns.items()
        if c in written and kinds.get(written[c]) != kind and written[c] != '"NULL"'
    }
    nulls = {c: int(facts[f"null_{c}"]) for c in rules.required if int(facts.get(f"null_{c}", 0))}
    return _schema_outcome(missing, wrong, nulls, int(facts["rows"]), list(written), rules)


def _held_back_outcome(
    name: str,
    rows: int,
    outside: int,
    held_back: Mapping[str, int],
    examples: Mapping[str, list[str]],
    max_share: float,
) -> CheckOutcome:
    held = int(held_back.get(name, 0))
    total = rows + held
    failing = held + outside
    if not failing:
        return CheckOutcome(name, True, 1.0, f"all {rows} rows pass")
    share = failing / total if total else 1.0
    blocks = share > max_share or outside > 0
    verdict = (
        f"more than {max_share:.0%} of the rows: the table is not written"
        if blocks
        else "the other rows are written; the held-back ones load once the reason is gone"
    )
    shown = list(examples.get(name, []))
    description = (
        f"{held} of {total} rows held back ({share:.2%}, {verdict}); e.g. {'; '.join(shown)}"
        if held
        else f"{outside} of {rows} rows fail"
    )
    metadata = {"held_back_rows": held, "share": round(share, 6), "examples": shown}
    return CheckOutcome(name, False, round(1 - share, 6), description, metadata, blocks=blocks)


def _counted(name: str, rows: int, failing: int, found: dict[str, Any], scope: str) -> CheckOutcome:
    score = 1 - failing / rows if rows else 1.0
    description = f"{failing} of {rows} rows fail ({scope}): {found}" if failing else f"all {rows} rows pass"
    return CheckOutcome(name, failing == 0, round(score, 6), description, {"failing_rows": failing, **found})


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date()


_CHECKERS: dict[str, Callable[[pd.DataFrame, TableRules, CheckContext], CheckOutcome]] = {
    "date_range": _date_range,
    "unique_key": _unique_key,
    "non_negative": _non_negative,
    "known_materials": _known_codes("known_materials", "erp_materials"),
    "known_sites": _known_codes("known_sites", "erp_sites"),
    "known_equipment": _known_codes("known_equipment", "erp_installed_base"),
    "plausible": _plausible,
    "replacement": _replacement,
    "no_gaps": _no_gaps,
    "fresh": _fresh,
    "rows_loaded": _rows_loaded,
}
