"""What the latest cycle put in the gold layer, in a few lines for the terminal."""

from __future__ import annotations

import psycopg

GOLD_TABLES = (
    "core.materials",
    "core.sites",
    "core.suppliers",
    "analytics.forecasts",
    "analytics.reorder_points",
    "analytics.alerts",
    "analytics.model_performance",
)


def gold_summary(url: str) -> str:
    with psycopg.connect(url) as conn:
        cycle = conn.execute("SELECT max(cycle_date) FROM analytics.alerts").fetchone()[0]
        lines = [f"Gold layer (PostgreSQL), latest cycle {cycle}:"]
        for table in GOLD_TABLES:
            schema, name = table.split(".")
            count = conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}.{}").format(
                    psycopg.sql.Identifier(schema), psycopg.sql.Identifier(name)
                )
            ).fetchone()[0]
            lines.append(f"  {table:<30} {count:>9,} rows")
        severities = conn.execute(
            "SELECT severity, count(*) FROM analytics.alerts WHERE cycle_date = %s GROUP BY severity"
            " ORDER BY array_position(ARRAY['CRÍTICO','ALTO','MÉDIO','OK'], severity)",
            (cycle,),
        ).fetchall()
    lines.append("  alerts: " + ", ".join(f"{sev} {n}" for sev, n in severities))
    return "\n".join(lines)
