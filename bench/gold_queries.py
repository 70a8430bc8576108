"""Gold-layer query bench: 10,000 synthetic materials loaded into a scratch database, then the
dashboard's queries timed (client round trip and EXPLAIN ANALYZE).

    python bench/gold_queries.py                      # server of NOVA_POSTGRES_URL, database nova_bench
    python bench/gold_queries.py --url postgresql://user:pw@host:5432/any --materials 10000

Only the database `nova_bench` (or --database) on that server is dropped and re-created. The rows
go through the production loader (staging, swap, audit) and the marts through `dbt build` of
dbt_project/gold, so the timings include the real indexes and marts. Targets (issue 7): the
day's alerts and the KPI row < 50 ms, one material's forecast < 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nova_assets.lib.gold.connection import dbt_environment  # noqa: E402
from nova_assets.lib.gold.loader import replace_cycle, upsert  # noqa: E402
from nova_assets.lib.gold.partitions import month_partitions  # noqa: E402
from nova_assets.lib.gold.purchase_orders import link_receipts, load_lines  # noqa: E402
from nova_assets.lib.gold.regions import resolve_site_regions  # noqa: E402
from nova_assets.lib.gold.schema import migrate  # noqa: E402

MODELS = ["SeasonalNaive", "Zero", "CrostonSBA", "TSB", "ADIDA", "IMAPA", "LightGBM", "Ensemble"]
SEVERITY_SHARE = {"CRÍTICO": 0.04, "ALTO": 0.08, "MÉDIO": 0.10, "OK": 0.78}
REGIONS = [
    "Região Metropolitana de Salvador",
    "Portal do Sertão",
    "Sudoeste",
    "Litoral Sul",
    "Recôncavo",
    "Oeste",
    "Extremo Sul",
    "Chapada Diamantina",
    "Litoral Norte",
    "Centro-Sul",
]

QUERIES = {  # name -> (target ms, SQL, needs a material id)
    "alerts of the day (CRÍTICO/ALTO)": (
        50,
        """
        SELECT a.material_id, m.description, a.severity, a.message, a.action, a.order_quantity
        FROM analytics.alerts a JOIN core.materials m USING (material_id)
        WHERE a.cycle_date = (SELECT max(cycle_date) FROM analytics.alerts)
          AND a.severity IN ('CRÍTICO', 'ALTO')
        ORDER BY array_position(ARRAY['CRÍTICO', 'ALTO'], a.severity), a.material_id""",
        False,
    ),
    "KPI row (latest day)": (50, "SELECT * FROM marts.kpi_daily ORDER BY cycle_date DESC LIMIT 1", False),
    "one material's forecast (all models)": (
        200,
        """
        SELECT forecast_date, model, forecast, forecast_lo, forecast_hi
        FROM analytics.forecasts
        WHERE material_id = %(m)s
          AND cycle_date = (SELECT max(cycle_date) FROM analytics.forecasts WHERE material_id = %(m)s)
        ORDER BY model, forecast_date""",
        True,
    ),
    "top 20 SLA exposure": (
        None,
        """
        SELECT site_id, material_id, exposure_brl FROM marts.sla_exposure
        WHERE cycle_date = (SELECT max(cycle_date) FROM marts.sla_exposure) AND exposure_rank <= 20
        ORDER BY exposure_rank""",
        False,
    ),
    "regional view (latest day)": (
        None,
        """
        SELECT * FROM marts.regional_view
        WHERE cycle_date = (SELECT max(cycle_date) FROM marts.regional_view) ORDER BY level, region_code""",
        False,
    ),
    "top 50 recommendations": (
        None,
        """
        SELECT kind, material_id, title, value_brl FROM analytics.recommendations
        WHERE cycle_date = (SELECT max(cycle_date) FROM analytics.recommendations)
        ORDER BY priority, value_brl DESC LIMIT 50""",
        False,
    ),
    "supplier performance": (None, "SELECT * FROM marts.supplier_performance ORDER BY supplier_id", False),
}


def scratch_database(url: str, name: str) -> str:
    """Drop and create `name` on the server of `url`; return its URL."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{url.rsplit('/', 1)[0]}/{name}"


def generate(n_materials: int, n_sites: int, horizon: int, cycles: list[dt.date], seed: int = 7) -> dict:
    """Synthetic gold rows shaped like the daily cycle's (no ERP history needed)."""
    rng = np.random.default_rng(seed)
    materials = [f"MAT-{i:05d}" for i in range(n_materials)]
    suppliers = pd.DataFrame(
        {
            "supplier_id": [f"SUP-{i:03d}" for i in range(20)],
            "supplier_name": [f"Fornecedor {i}" for i in range(20)],
            "lead_time_mean_days": rng.uniform(5, 45, 20).round(),
            "lead_time_std_days": 3.0,
        }
    )
    cost = np.exp(rng.normal(5, 1.5, n_materials)).round(2)
    material = pd.DataFrame(
        {
            "material_id": materials,
            "description": [f"Peça {m}" for m in materials],
            "category": rng.choice(["RF", "Power", "Fibre", "Radio"], n_materials),
            "unit": "UN",
            "unit_cost": cost,
            "criticality": rng.choice(["A", "B", "C"], n_materials, p=[0.2, 0.3, 0.5]),
            "supplier_id": rng.choice(suppliers["supplier_id"], n_materials),
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": [f"SITE-{i:03d}" for i in range(n_sites)],
            "site_name": [f"ERB {i:03d}" for i in range(n_sites)],
            "site_type": ["warehouse"] * 2 + ["tower"] * (n_sites - 2),
            "region": [REGIONS[i % len(REGIONS)] for i in range(n_sites)],
            "state": "BA",
            "municipality": "Salvador",
            "ibge_code": "2927408",
            "latitude": -12.9,
            "longitude": -38.5,
            "sla_penalty_brl_day": rng.uniform(1000, 5000, n_sites).round(-1),
        }
    )
    per_cycle = {}
    for c in cycles:
        level = rng.gamma(0.6, 2.0, n_materials)
        forecasts = pd.DataFrame(
            {
                "material_id": np.repeat(materials, horizon * len(MODELS)),
                "forecast_date": np.tile(
                    [c + dt.timedelta(days=d) for d in range(1, horizon + 1)], n_materials * len(MODELS)
                ),
                "model": np.tile(np.repeat(MODELS, horizon), n_materials),
            }
        )
        forecasts["forecast"] = np.repeat(level, horizon * len(MODELS)) * rng.uniform(0.8, 1.2, len(forecasts))
        forecasts["forecast_lo"] = forecasts["forecast"] * 0.5
        forecasts["forecast_hi"] = forecasts["forecast"] * 1.8
        forecasts["interval_level"] = 0.8
        on_hand = rng.poisson(level * 20).astype(float)
        rp = level * 15
        rows = []
        for policy, factor in (("project", 1.0), ("baseline_design", 1.3)):
            rows.append(
                pd.DataFrame(
                    {
                        "material_id": materials,
                        "policy": policy,
                        "mean_daily_demand": level,
                        "sigma_daily_demand": level,
                        "lead_time_days": 15.0,
                        "safety_stock": rp * 0.2 * factor,
                        "reorder_point": rp * factor,
                        "order_up_to": rp * 2 * factor,
                        "stock_on_hand": on_hand,
                        "on_order": 0.0,
                        "stock_position": on_hand,
                        "days_until_stockout": on_hand / np.maximum(level, 1e-3),
                        "days_until_reorder_point": 1.0,
                    }
                )
            )
        severity = rng.choice(list(SEVERITY_SHARE), n_materials, p=list(SEVERITY_SHARE.values()))
        alerts = pd.DataFrame(
            {
                "material_id": materials,
                "severity": severity,
                "message": "Estoque 3 <= PP 5",
                "action": "COMPRAR 10 unidades",
                "order_quantity": 10.0,
                "stock_position": on_hand,
                "reorder_point": rp,
                "data_as_of": c,
                "is_stale": False,
            }
        )
        pairs = pd.DataFrame(
            {"material_id": np.repeat(materials, 5), "site_id": rng.choice(sites["site_id"], n_materials * 5)}
        ).drop_duplicates()
        n = len(pairs)
        site_inventory = pairs.assign(
            on_hand=rng.poisson(5, n).astype(float),
            issued_30d=rng.poisson(3, n).astype(float),
            issued_90d=rng.poisson(9, n).astype(float),
            received_90d=rng.poisson(9, n).astype(float),
            demand_days_90d=rng.poisson(4, n),
            mean_daily_demand=rng.gamma(0.5, 0.2, n),
            resupply_days=15.0,
            stockout_probability=rng.beta(0.3, 3, n),
        )
        site_inventory["days_of_cover"] = site_inventory["on_hand"] / site_inventory["mean_daily_demand"]
        orders = pd.DataFrame(
            {
                "po_id": [f"45{i:08d}" for i in range(n_materials // 4)],
                "material_id": rng.choice(materials, n_materials // 4),
                "supplier_id": rng.choice(suppliers["supplier_id"], n_materials // 4),
                "quantity": 10.0,
                "order_date": c - dt.timedelta(days=20),
                "expected_date": c + dt.timedelta(days=10),
            }
        )
        performance = pd.DataFrame(
            {
                "model": MODELS,
                "family": "bench",
                "mase": rng.uniform(0.7, 1.2, len(MODELS)),
                "rmsse": rng.uniform(0.5, 1.0, len(MODELS)),
                "bias": 0.0,
                "total_demand_error": 0.0,
                "n_series": n_materials,
                "mlflow_run_id": None,
            }
        )
        recommendations = pd.DataFrame(
            {
                "recommendation_id": [f"COMPRAR:{m}::::" for m in materials[: n_materials // 5]],
                "material_id": materials[: n_materials // 5],
                "kind": "COMPRAR",
                "priority": rng.integers(1, 5, n_materials // 5),
                "site_id": None,
                "from_site_id": None,
                "po_id": None,
                "quantity": 10.0,
                "value_brl": rng.uniform(100, 10000, n_materials // 5),
                "title": "Comprar",
                "explanation": "Posição abaixo do ponto de pedido",
                "evidence": "{}",
            }
        )
        per_cycle[c] = {
            "analytics.forecasts": forecasts,
            "analytics.reorder_points": pd.concat(rows),
            "analytics.alerts": alerts,
            "analytics.site_inventory": site_inventory,
            "analytics.open_orders": orders,
            "analytics.model_performance": performance,
            "analytics.recommendations": recommendations,
        }
    purchase_orders = _purchase_orders(rng, material, suppliers, sites, cycles[-1])
    return {
        "suppliers": suppliers,
        "materials": material,
        "sites": sites,
        "cycles": per_cycle,
        "purchase_orders": purchase_orders,
    }


def _purchase_orders(
    rng: np.random.Generator, material: pd.DataFrame, suppliers: pd.DataFrame, sites: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """A year of PO lines (one per material) and the receipts naming them, linked as the gold asset does."""
    n = len(material)
    promised_days = material["supplier_id"].map(suppliers.set_index("supplier_id")["lead_time_mean_days"])
    order_date = pd.Timestamp(as_of) - pd.Series(pd.to_timedelta(rng.integers(0, 365, n), unit="D"))
    orders = pd.DataFrame(
        {
            "po_id": [f"45{i:08d}" for i in range(n)],
            "material_id": material["material_id"],
            "supplier_id": material["supplier_id"],
            "site_id": rng.choice(sites["site_id"], n),
            "quantity": 10.0,
            "order_date": order_date.dt.date,
            "promised_date": (order_date + pd.to_timedelta(promised_days, unit="D")).dt.date,
        }
    )
    actual_days = np.maximum(promised_days + rng.normal(2, 5, n), 1).round()
    movements = pd.DataFrame(
        {
            "movement_date": (order_date + pd.to_timedelta(actual_days, unit="D")).dt.date,
            "material_id": orders["material_id"],
            "site_id": orders["site_id"],
            "movement_type": "receipt",
            "quantity": 10.0,
            "po_id": orders["po_id"],
        }
    )
    return link_receipts(orders, movements, as_of)  # receipts after `as_of` leave their lines open


def load(url: str, data: dict) -> list[tuple[str, int, float]]:
    timings = []
    with psycopg.connect(url) as conn:
        migrate(conn)
        upsert(conn, "core.suppliers", data["suppliers"], ["supplier_id"])
        upsert(conn, "core.materials", data["materials"], ["material_id"])
        sites, regions = resolve_site_regions(conn, data["sites"])
        upsert(conn, "core.regions", regions, ["region_code"])
        upsert(conn, "core.sites", sites, ["site_id"])
        for cycle, tables in data["cycles"].items():
            for table, frame in tables.items():
                started = time.perf_counter()
                rows = replace_cycle(conn, table, cycle, frame, run_id="bench")
                timings.append((f"{table} {cycle}", rows, time.perf_counter() - started))
        started = time.perf_counter()
        lines = data["purchase_orders"]
        rows = load_lines(conn, lines, lines["as_of_date"].max(), run_id="bench").rows_written
        timings.append(("analytics.purchase_orders", rows, time.perf_counter() - started))
        conn.commit()
        with psycopg.connect(url, autocommit=True) as maintenance:
            maintenance.execute("VACUUM ANALYZE")
    return timings


def build_marts(url: str, target_dir: Path) -> float:
    env = {**os.environ, **dbt_environment(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    gold = ROOT / "dbt_project" / "gold"
    started = time.perf_counter()
    subprocess.run(
        [
            str(dbt),
            "build",
            "--project-dir",
            str(gold),
            "--profiles-dir",
            str(gold),
            "--target-path",
            str(target_dir / "target"),
            "--log-path",
            str(target_dir / "logs"),
            "--quiet",
        ],
        check=True,
        env=env,
    )
    return time.perf_counter() - started


def time_queries(url: str, repeats: int, material: str) -> list[dict]:
    results = []
    with psycopg.connect(url, autocommit=True) as conn:
        for name, (target, query, needs_material) in QUERIES.items():
            params = {"m": material} if needs_material else {}
            conn.execute(query, params).fetchall()  # warm the cache, as a dashboard would be
            samples, rows = [], 0
            for _ in range(repeats):
                started = time.perf_counter()
                rows = len(conn.execute(query, params).fetchall())
                samples.append((time.perf_counter() - started) * 1000)
            plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()[0][0]
            samples.sort()
            median = statistics.median(samples)
            results.append(
                {
                    "query": name,
                    "rows": rows,
                    "median_ms": median,
                    "p95_ms": samples[min(len(samples) - 1, int(0.95 * len(samples)))],
                    "explain_ms": plan["Execution Time"],
                    "target_ms": target,
                    "ok": "yes" if target is None or samples[-1] < target else "NO",
                }
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--url",
        default=os.environ.get("NOVA_BENCH_POSTGRES_URL") or os.environ.get("NOVA_POSTGRES_URL"),
        help="any database on the server to use (default: NOVA_POSTGRES_URL)",
    )
    parser.add_argument("--database", default="nova_bench", help="scratch database, dropped and re-created")
    parser.add_argument("--materials", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=60)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--cycle-step-days", type=int, default=1, help="days between loaded cycles (30: one a month)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no server: set NOVA_POSTGRES_URL (e.g. `nova services up`) or pass --url")
    url = scratch_database(args.url, args.database)
    last = dt.date(2025, 11, 9)
    cycles = [last - dt.timedelta(days=i * args.cycle_step_days) for i in reversed(range(args.cycles))]
    started = time.perf_counter()
    data = generate(args.materials, args.sites, args.horizon, cycles)
    print(
        f"generated {args.materials:,} materials x {len(MODELS)} models x {args.horizon} days x "
        f"{args.cycles} cycles in {time.perf_counter() - started:.1f} s"
    )
    loads = load(url, data)
    forecast_rows = sum(r for name, r, _ in loads if name.startswith("analytics.forecasts"))
    forecast_s = sum(s for name, _, s in loads if name.startswith("analytics.forecasts"))
    print(
        f"loaded through staging: {sum(r for _, r, _ in loads):,} rows in {sum(s for _, _, s in loads):.1f} s "
        f"(forecasts {forecast_rows:,} rows, {forecast_rows / forecast_s:,.0f} rows/s)"
    )
    with psycopg.connect(url) as conn:
        partitions = [p.name for p in month_partitions(conn, "analytics.forecasts")]
    print(f"analytics.forecasts partitions: {', '.join(partitions)}")
    print(f"dbt build of the marts (with their tests): {build_marts(url, Path('/tmp') / 'nova_bench_dbt'):.1f} s")
    results = time_queries(url, args.repeats, data["materials"]["material_id"].iloc[args.materials // 2])
    frame = pd.DataFrame(results)
    frame["target_ms"] = [f"< {t:g}" if t else "-" for t in (r["target_ms"] for r in results)]
    print(f"\nQuery timings, {args.repeats} runs each after one warm-up (ms; ok = every run under target):")
    print(frame.round(2).to_markdown(index=False))
    return 0 if (frame["ok"] == "yes").all() else 1


if __name__ == "__main__":
    raise SystemExit(main())
