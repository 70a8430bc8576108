"""What the latest cycle put in the gold layer, in a few lines for the terminal."""

from __future__ import annotations

import psycopg

from nova_assets.lib.gold.connection import redact_url
from nova_assets.lib.gold.loader import qualified
from nova_assets.lib.inventory.alerts import MOST_SEVERE_FIRST

GOLD_TABLES = (
    "core.materials",
    "core.sites",
    "core.suppliers",
    "analytics.forecasts",
    "analytics.reorder_points",
    "analytics.alerts",
    "analytics.model_performance",
    "analytics.site_inventory",
    "analytics.open_orders",
    "analytics.purchase_orders",
    "analytics.material_segments",
    "analytics.tower_clusters",
    "analytics.recommendations",
    "marts.kpi_daily",
)


def gold_summary(url: str) -> str:
    """The tables' row counts, the cycle's alerts and KPIs, and where the database is (for a BI tool)."""
    with psycopg.connect(url) as conn:
        cycle = conn.execute("SELECT max(cycle_date) FROM analytics.alerts").fetchone()[0]
        lines = [f"Gold layer (PostgreSQL at {redact_url(url)}), latest cycle {cycle}:"]
        for table in GOLD_TABLES:
            count = conn.execute(psycopg.sql.SQL("SELECT count(*) FROM {}").format(qualified(table))).fetchone()[0]
            lines.append(f"  {table:<30} {count:>9,} rows")
        severities = conn.execute(
            "SELECT severity, count(*) FROM analytics.alerts WHERE cycle_date = %s GROUP BY severity"
            " ORDER BY array_position(%s::text[], severity)",
            (cycle, list(MOST_SEVERE_FIRST)),
        ).fetchall()
        kpi = conn.execute(
            "SELECT stockout_rate, ensemble_fva_rmsse, inventory_value_brl, savings_brl, sla_exposure_brl"
            " FROM marts.kpi_daily WHERE cycle_date = %s",
            (cycle,),
        ).fetchone()
    lines.append("  alerts: " + ", ".join(f"{sev} {n}" for sev, n in severities))
    if kpi:
        stockout, fva, value, savings, exposure = kpi
        lines.append(
            f"  KPIs: stock-out {_pct(stockout)}, ensemble FVA vs naive {_pct(fva)}, inventory R$ {value or 0:,.0f},"
            f" {_against_design(savings)}, SLA exposure R$ {exposure or 0:,.0f}"
        )
    lines.append("  BI users: read-only role nova_bi (LOGIN only when NOVA_BI_PASSWORD is set); marts in schema marts")
    return "\n".join(lines)


def _against_design(savings: float | None) -> str:
    """The policy's average stock against the design formula's (the policy replay): a saving, or the extra
    stock its higher service costs, never a negative saving."""
    if savings is None:
        return "stock vs design formula -"
    if savings < 0:
        return f"average stock R$ {-savings:,.0f} above the design formula (for the service it reaches)"
    return f"savings vs design formula R$ {savings:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"
