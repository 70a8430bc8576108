"""Every table of the lake, declared once: where it lives, which asset writes it, what it holds.

An asset's dependencies and its reads both come from these declarations: `LakeResource` reads and
writes only declared tables, and inside a run it refuses to read a table whose writer is not a
dependency of the reading asset, so the lineage drawn in the Dagster UI is what the code reads.
The raw tables' columns are their quality contract (`quality.RULES`, data/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from nova_assets.lib.sources.quality import RULES


@dataclass(frozen=True)
class LakeTable:
    """A file of the lake: `<layer>/<name><suffix>`, written by the asset `asset` (its key path)."""

    layer: str
    name: str
    asset: tuple[str, ...]
    columns: tuple[str, ...] = ()  # what every writer provides and readers may rely on; () for files
    suffix: str = ".parquet"

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.layer) / f"{self.name}{self.suffix}"

    def __str__(self) -> str:
        return f"{self.layer}/{self.name}"

    def part(self, name: str, suffix: str | None = None) -> LakeTable:
        """A file of the same asset beside this one (a material group's piece, a dated report)."""
        return replace(self, name=name, columns=(), suffix=suffix or self.suffix)


RAW: dict[str, LakeTable] = {
    name: LakeTable("raw", name, ("raw", name), tuple(rules.columns)) for name, rules in RULES.items()
}


def raw(name: str) -> LakeTable:
    """The raw table `name` (a key of quality.RULES)."""
    if name not in RAW:
        raise KeyError(f"no raw table {name!r} in the lake's declarations (quality.RULES)")
    return RAW[name]


ERP_MATERIALS = raw("erp_materials")
ERP_SITES = raw("erp_sites")
ERP_SUPPLIERS = raw("erp_suppliers")
ERP_STOCK = raw("erp_stock")
ERP_MOVEMENTS = raw("erp_movements")
ERP_OPEN_ORDERS = raw("erp_open_orders")
ERP_PURCHASE_ORDERS = raw("erp_purchase_orders")
ERP_INSTALLED_BASE = raw("erp_installed_base")
ERP_WORK_ORDERS = raw("erp_work_orders")
ERP_WORK_ORDER_PARTS = raw("erp_work_order_parts")
WEATHER_DAILY = raw("weather_daily")
WEATHER_INMET_HISTORY = raw("weather_inmet_history")
ECONOMICS_SELIC = raw("economics_selic")
ECONOMICS_USD_BRL = raw("economics_usd_brl")
HOLIDAYS = raw("holidays")
ANATEL_5G_MONTHLY = raw("anatel_5g_monthly")

_ERP_QUARANTINE = ("quarantine", "erp_rows")
ERP_QUARANTINED_ROWS = LakeTable(
    "quarantine", "erp_rows", _ERP_QUARANTINE, ("table", "source_file", "line_number", "reason", "raw_row", "loaded_at")
)
ERP_REJECTED_FILES = LakeTable(
    "quarantine",
    "erp_rejected_files",
    _ERP_QUARANTINE,
    ("file_name", "table", "reason", "rejected_at", "moved_to", "content_hash"),
)

# silver: the dbt marts exported to Parquet (dbt_project/features/macros/lake.sql, export_to_silver)
DAILY_DEMAND = LakeTable(
    "silver", "fct_item_daily_demand", ("fct_item_daily_demand",), ("material_id", "date", "demand")
)

FORECAST_COLUMNS = ("unique_id", "ds", "model", "forecast", "demand_class")
BACKTEST_COLUMNS = ("unique_id", "ds", "cutoff", "y", "model", "forecast", "demand_class")


def family_forecast(family: str) -> LakeTable:
    """A model family's forecast from all history (forecast/<family>), written by forecast/forecast_<family>."""
    return LakeTable("forecast", family, ("forecast", f"forecast_{family}"), FORECAST_COLUMNS)


def family_backtest(family: str) -> LakeTable:
    """A model family's rolling-origin backtest (forecast/<family>_backtest)."""
    return LakeTable("forecast", f"{family}_backtest", ("forecast", f"forecast_{family}"), BACKTEST_COLUMNS)


def family_state(family: str) -> LakeTable:
    """A global family's backtest key and model forms (JSON), read by its next cycle to reuse the backtest
    (lib/forecasting/pipeline.StoredBacktest); a fanned-out family keeps them per group (family_group_tables)."""
    return LakeTable("forecast", f"{family}_state", ("forecast", f"forecast_{family}"), suffix=".json")


def family_group_tables(family: str, group: int) -> tuple[LakeTable, LakeTable, LakeTable]:
    """A material group's forecast, backtest and run state (JSON): pieces of forecast/forecast_<family>,
    written by its group steps and read by its collect step (defs/forecast/families.py)."""
    part = f"{family}_group_{group}"
    forecast = family_forecast(family)
    return forecast.part(part), forecast.part(f"{part}_backtest"), forecast.part(f"{part}_memo", ".json")


_ENSEMBLE = ("forecast", "forecast_ensemble")
ENSEMBLE_FORECAST = LakeTable("forecast", "ensemble", _ENSEMBLE, FORECAST_COLUMNS)
ENSEMBLE_BACKTEST = LakeTable(
    "forecast", "ensemble_backtest", _ENSEMBLE, ("unique_id", "cutoff", "ds", "y", "forecast", "demand_class")
)
MODEL_PERFORMANCE = LakeTable(
    "forecast",
    "model_performance",
    _ENSEMBLE,
    ("model", "family", "mase", "rmsse", "bias", "total_demand_error", "n_series"),
)
ENSEMBLE_WEIGHTS = LakeTable("forecast", "ensemble_weights", _ENSEMBLE, ("demand_class", "model", "weight"))
DEMAND_QUANTILES = LakeTable(
    "forecast", "quantiles", _ENSEMBLE, ("unique_id", "ds", "step", "forecast", "cum_forecast")
)

REORDER_POINTS = LakeTable(
    "inventory",
    "reorder_points",
    ("inventory", "reorder_points"),
    (
        "material_id",
        "policy",
        "mean_daily_demand",
        "lead_time_days",
        "safety_stock",
        "reorder_point",
        "order_quantity",
        "suggested_order",
        "days_until_reorder_point",
        "stock_position",
        "days_until_stockout",
        "cycle_date",
    ),
)
# the planners' daily forecast the reorder points used instead of the ensemble's (lib/platform/overrides.py)
FORECAST_OVERRIDES = LakeTable(
    "inventory",
    "forecast_overrides",
    ("inventory", "reorder_points"),
    ("material_id", "forecast_date", "forecast", "override_id", "cycle_date"),
)
ALERTS = LakeTable(
    "inventory",
    "alerts",
    ("inventory", "alerts"),
    ("material_id", "severity", "message", "action", "detail", "site_id", "cycle_date", "stale_warning"),
)
_POLICY_BACKTEST = ("inventory", "policy_backtest")
POLICY_BACKTEST = LakeTable(
    "inventory", "policy_backtest", _POLICY_BACKTEST, ("policy", "segment", "fill_rate", "freq", "cycle_date")
)
POLICY_BACKTEST_ITEMS = LakeTable(
    "inventory", "policy_backtest_items", _POLICY_BACKTEST, ("policy", "item", "fill_rate", "segment")
)
POLICY_SERVICE_CURVE = LakeTable(
    "inventory",
    "policy_service_curve",
    _POLICY_BACKTEST,
    ("service_target", "cycle_service_level", "fill_rate", "avg_inventory_value", "value_per_point", "cycle_date"),
)
POLICY_CALIBRATION = LakeTable(
    "inventory",
    "policy_calibration",
    _POLICY_BACKTEST,
    ("method", "service_measure", "nominal_level", "cycles", "cycles_with_stockout", "demand", "filled"),
)
# The day the replay ended and the settings it ran with (JSON): the next cycles keep the replay while they match
POLICY_BACKTEST_STATE = LakeTable("inventory", "policy_backtest_state", _POLICY_BACKTEST, suffix=".json")

# maintenance (lib/maintenance/outlook.py): the failure model of the cycle, its forecast and calibration,
# the failure clusters per site and equipment type, and the parts left without installed base
_FAILURE_MODEL = ("maintenance", "failure_model")
FAILURE_MODEL_SUMMARY = LakeTable(
    "maintenance",
    "failure_model_summary",
    _FAILURE_MODEL,
    ("equipment_type", "failures", "unit_years", "shape", "scale_years", "heat", "rain"),
)
# The fitted model itself (FailureModel.to_json), so the assets that forecast with it do not refit it
FAILURE_MODEL = LakeTable("maintenance", "failure_model", _FAILURE_MODEL, (), ".json")
FAILURE_CALIBRATION = LakeTable(
    "maintenance",
    "failure_calibration",
    _FAILURE_MODEL,
    ("equipment_type", "cells", "expected", "observed", "coverage_90", "observed_over_expected"),
)
FAILURE_FORECAST = LakeTable(
    "maintenance",
    "failure_forecast",
    _FAILURE_MODEL,
    ("period", "site_id", "equipment_type", "expected", "p5", "p50", "p95"),
)
EQUIPMENT_FAILURE_CLUSTERS = LakeTable(
    "maintenance",
    "equipment_failure_clusters",
    ("maintenance", "equipment_failure_clusters"),
    ("site_id", "equipment_type", "failures", "failure_rate_per_year", "mtbf_days", "cluster"),
)
OBSOLESCENCE_RISK = LakeTable(
    "maintenance",
    "obsolescence_risk",
    ("maintenance", "obsolescence_risk"),
    ("material_id", "status", "on_hand", "remaining_demand", "excess_units", "obsolescence_risk_brl"),
)

# the daily PDF report; one file per cycle day: DAILY_REPORT.part(f"relatorio_estoque_{day}")
DAILY_REPORT = LakeTable("reports", "relatorio_estoque", ("delivery", "daily_report"), suffix=".pdf")


def daily_report(day: object) -> LakeTable:
    """The report of cycle day `day` (a date or an ISO string)."""
    return DAILY_REPORT.part(f"relatorio_estoque_{str(day)[:10]}")


def declared_tables(families: list[str]) -> list[LakeTable]:
    """Every table above, with the forecast tables of `families`: what the lake holds after a cycle."""
    fixed = [value for value in globals().values() if isinstance(value, LakeTable) and value is not DAILY_REPORT]
    per_family = [table for family in families for table in (family_forecast(family), family_backtest(family))]
    return list({table: None for table in [*RAW.values(), *fixed, *per_family]})
