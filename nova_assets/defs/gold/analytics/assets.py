"""Site-level inventory, purchase orders, segments/clusters and recommendations, loaded into gold."""

import json

import dagster as dg
import duckdb
import pandas as pd
from psycopg import sql

from nova_assets.defs.gold.base.postgres import CORE_KEYS, gold_connection, load_cycle
from nova_assets.defs.history import load_cycle_date
from nova_assets.lib.analytics.clustering import (
    cluster_materials,
    cluster_towers,
    material_features,
    tower_features,
    tower_movements,
)
from nova_assets.lib.analytics.recommendations import recommend
from nova_assets.lib.analytics.site_inventory import recent_movements
from nova_assets.lib.analytics.site_inventory import site_inventory as compute_site_inventory
from nova_assets.lib.gold.loader import Scope, qualified, record_load, replace_rows
from nova_assets.lib.gold.purchase_orders import (
    PURCHASE_ORDERS_TABLE,
    blank_unknown_codes,
    link_lake_receipts,
    load_lines,
)
from nova_assets.lib.inventory.reorder import BASELINE_POLICY
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    ERP_MATERIALS,
    ERP_MOVEMENTS,
    ERP_OPEN_ORDERS,
    ERP_PURCHASE_ORDERS,
    ERP_SITES,
    ERP_STOCK,
    ERP_SUPPLIERS,
    REORDER_POINTS,
    WEATHER_DAILY,
)
from nova_assets.lib.sources.erp_tables import STOCK_MOVEMENT_COLUMNS
from nova_assets.resources import LakeResource, PostgresResource, lake_deps

GOLD = {"key_prefix": "gold", "kinds": {"postgres", "scikitlearn"}}
# what the site inventory is computed from (site_inventory and recommendations)
SITE_INVENTORY_INPUTS = (ERP_MOVEMENTS, ERP_STOCK, ERP_OPEN_ORDERS, ERP_MATERIALS, ERP_SUPPLIERS)


def cycle_as_of(lake: LakeResource) -> pd.Timestamp:
    """The cycle's date (the forecast and reorder points use the same)."""
    return pd.Timestamp(load_cycle_date(lake))


def lead_times(lake: LakeResource) -> pd.Series:
    """Supplier mean lead time per material."""
    materials = lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id")
    return materials.set_index("material_id")["lead_time_mean_days"]


def _site_inventory(lake: LakeResource, as_of: pd.Timestamp) -> pd.DataFrame:
    return compute_site_inventory(
        lake.read(ERP_MOVEMENTS, STOCK_MOVEMENT_COLUMNS, filters=recent_movements(as_of)),
        lake.read(ERP_STOCK),
        lead_times(lake),
        lake.read(ERP_OPEN_ORDERS),
        as_of,
    )


def _preview(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(rows).round(3).to_markdown(index=False))


@dg.asset(
    **GOLD,
    deps=[*lake_deps(*SITE_INVENTORY_INPUTS, DAILY_DEMAND), *CORE_KEYS],
)
def site_inventory(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Stock, last 30/90-day issues and stock-out probability before resupply per material and site."""
    as_of = cycle_as_of(lake)
    frame = _site_inventory(lake, as_of)
    result = load_cycle(context, gold, "analytics.site_inventory", as_of.date(), frame)
    at_risk = int((frame["stockout_probability"] >= 0.5).sum())
    return dg.MaterializeResult(metadata={**result.metadata, "site_materials_at_risk_50pct": at_risk})


@dg.asset(**GOLD, deps=[*lake_deps(ERP_OPEN_ORDERS, DAILY_DEMAND), *CORE_KEYS])
def open_orders(context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource) -> dg.MaterializeResult:
    """Today's open purchase orders; the daily snapshots are what supplier performance is measured on."""
    orders = lake.read(ERP_OPEN_ORDERS)
    frame = orders[["po_id", "material_id", "supplier_id", "quantity", "order_date", "expected_date"]].copy()
    for column in ("order_date", "expected_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return load_cycle(context, gold, "analytics.open_orders", cycle_as_of(lake).date(), frame)


def _purchase_order_gap(lake: LakeResource) -> str | None:
    """Why PO lines cannot be linked to receipts this cycle, or None when they can."""
    if not lake.exists(ERP_PURCHASE_ORDERS):
        return "raw/erp_purchase_orders is not in the lake (an export without purchase orders)"
    if not lake.rows(ERP_PURCHASE_ORDERS):
        return "raw/erp_purchase_orders is empty"
    if "po_id" not in lake.columns(ERP_MOVEMENTS):
        return "raw/erp_movements has no po_id column: receipts cannot be linked to their orders"
    return None


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(ERP_PURCHASE_ORDERS, ERP_MOVEMENTS, DAILY_DEMAND), *CORE_KEYS],
)
def purchase_orders(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """PO lines with their receipts (received on the first receipt naming the PO); supplier performance
    is measured on them. Only the lines that changed are written. Without a PO export nothing is loaded
    and the mart keeps its fallback."""
    gap = _purchase_order_gap(lake)
    if gap:
        context.log.warning(f"{PURCHASE_ORDERS_TABLE} not loaded: {gap}")
        return dg.MaterializeResult(
            metadata={
                "table": PURCHASE_ORDERS_TABLE,
                "rows": 0,
                "note": f"{gap}; marts.supplier_performance uses the rows already loaded, else the open-order"
                " snapshots (basis column)",
            }
        )
    as_of = cycle_as_of(lake).date()
    with duckdb.connect() as con:
        frame = link_lake_receipts(con, lake.scan(con, ERP_PURCHASE_ORDERS), lake.scan(con, ERP_MOVEMENTS), as_of)
    blanked = {}
    with gold_connection(gold) as conn:
        for column, reference in (("site_id", "core.sites"), ("supplier_id", "core.suppliers")):
            with conn.transaction():  # closed before the load, which runs (and audits) in its own
                query = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(column), qualified(reference))
                known = {r[0] for r in conn.execute(query)}
            frame, blanked[column] = blank_unknown_codes(frame, column, known)
            if blanked[column]:
                context.log.warning(
                    f"{blanked[column]} PO lines name a {column} unknown to {reference}: loaded without it"
                )
        written = load_lines(conn, frame, as_of, run_id=context.run_id).rows_written
        record_load(conn, as_of, PURCHASE_ORDERS_TABLE, context.run_id, written)
    received = frame["received_date"].notna()
    overdue = ~received & (pd.to_datetime(frame["promised_date"]) < pd.Timestamp(as_of))
    return dg.MaterializeResult(
        metadata={
            "table": PURCHASE_ORDERS_TABLE,
            "cycle_date": str(as_of),
            "rows": len(frame),
            "rows_written": written,
            "lines_received": int(received.sum()),
            "lines_open": int((~received).sum()),
            "lines_open_past_promise": int(overdue.sum()),
            **{f"unknown_{column}_blanked": n for column, n in blanked.items()},
        }
    )


def _load_profiles(
    context: dg.AssetExecutionContext, gold: PostgresResource, entity: str, as_of: pd.Timestamp, profiles: pd.DataFrame
) -> None:
    frame = profiles.assign(cycle_date=as_of.date(), entity=entity, centroid=profiles["centroid"].map(json.dumps))
    with gold_connection(gold) as conn:
        replace_rows(
            conn,
            "analytics.cluster_profiles",
            frame,
            Scope(equals={"cycle_date": as_of.date(), "entity": entity}),
            run_id=context.run_id,
        )


def _cluster_metadata(profiles: pd.DataFrame) -> dict[str, object]:
    first = profiles.iloc[0]
    return {
        "k": int(first["k"]),
        "method": first["method"],
        "silhouette": None if pd.isna(first["score"]) else round(float(first["score"]), 4),
        "profiles": dg.MetadataValue.md(
            profiles.assign(
                centroid=profiles["centroid"].map(
                    lambda c: ", ".join(f"{k}={v:.3g}" for k, v in c.items() if v is not None)
                )
            )[["cluster_id", "label", "size", "centroid"]].to_markdown(index=False)
        ),
    }


@dg.asset(**GOLD, deps=[*lake_deps(DAILY_DEMAND, ERP_MATERIALS), *CORE_KEYS])
def material_segments(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Materials by value and demand pattern: ABC x XYZ classes and a K-means cluster (k by silhouette)."""
    as_of = cycle_as_of(lake)
    demand = lake.read(DAILY_DEMAND)
    cost = lake.read(ERP_MATERIALS).set_index("material_id")["unit_cost"]
    segments, profiles = cluster_materials(material_features(demand, cost, as_of))
    result = load_cycle(context, gold, "analytics.material_segments", as_of.date(), segments)
    _load_profiles(context, gold, "material", as_of, profiles)
    matrix = pd.crosstab(segments["abc_class"], segments["xyz_class"])
    return dg.MaterializeResult(
        metadata={
            **result.metadata,
            **_cluster_metadata(profiles),
            "abc_xyz": dg.MetadataValue.md(matrix.to_markdown()),
        }
    )


@dg.asset(
    **GOLD,
    deps=[*lake_deps(ERP_MOVEMENTS, ERP_SITES, ERP_MATERIALS, WEATHER_DAILY, DAILY_DEMAND), *CORE_KEYS],
)
def tower_clusters(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Towers by failure/demand behaviour (events and value per day, variability, rain lift, trend)."""
    as_of = cycle_as_of(lake)
    features = tower_features(
        lake.read(ERP_MOVEMENTS, STOCK_MOVEMENT_COLUMNS, filters=tower_movements(as_of)),
        lake.read(ERP_SITES),
        lake.read(ERP_MATERIALS).set_index("material_id")["unit_cost"],
        lake.read(WEATHER_DAILY),
        as_of,
    )
    assigned, profiles = cluster_towers(features)
    result = load_cycle(context, gold, "analytics.tower_clusters", as_of.date(), assigned)
    _load_profiles(context, gold, "tower", as_of, profiles)
    return dg.MaterializeResult(metadata={**result.metadata, **_cluster_metadata(profiles)})


def policy_rows(points: pd.DataFrame) -> pd.DataFrame:
    """One row per material: the project's policy when the cycle has one, else the baseline."""
    ranked = points.assign(_baseline=points["policy"] == BASELINE_POLICY).sort_values(["material_id", "_baseline"])
    return ranked.drop_duplicates("material_id").drop(columns="_baseline")


@dg.asset(
    **GOLD,
    deps=[*lake_deps(REORDER_POINTS, *SITE_INVENTORY_INPUTS, ERP_SITES), site_inventory],
)
def recommendations(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Buy now, expedite, rebalance, reduce: per material, in Portuguese, with the numbers behind each."""
    points = policy_rows(lake.read(REORDER_POINTS))
    as_of = pd.Timestamp(points["cycle_date"].iloc[0])
    materials = lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id", how="left")
    frame = recommend(
        points,
        materials,
        lake.read(ERP_OPEN_ORDERS),
        _site_inventory(lake, as_of),
        lake.read(ERP_SITES),
        as_of,
    )
    result = load_cycle(
        context,
        gold,
        "analytics.recommendations",
        as_of.date(),
        frame.assign(evidence=frame["evidence"].map(json.dumps)),
    )
    counts = frame["kind"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            **result.metadata,
            **{f"kind_{k}": int(v) for k, v in counts.items()},
            "value_brl_total": round(float(frame["value_brl"].sum()), 2),
            "preview": _preview(frame[["kind", "priority", "material_id", "title", "value_brl"]], 15),
        }
    )
