"""Equipment failure clusters per site and equipment type (the `/clustering/equipment-failure` data).

Per (site, type) over a period: units in service at its end, unit-years observed, corrective
failures, failure rate per unit-year and relative to the type's fleet rate (a tower's batteries failing
twice as often as all batteries), mean time between failures (unit-days per failure), the cost of the
parts the repairs used, and a k-means cluster on relative failure rate and repair cost per unit-year
(the one clustering of lib.analytics.clustering: k by silhouette, cluster 0 the lowest relative rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nova_assets.lib.analytics.clustering import choose_kmeans
from nova_assets.lib.maintenance.contracts import CORRECTIVE, service_days, typed_installed_base, typed_work_orders
from nova_assets.lib.maintenance.failure_model import DAYS_PER_YEAR

CLUSTER_COLUMNS = [
    "site_id",
    "equipment_type",
    "units",
    "unit_years",
    "mean_age_years",
    "failures",
    "failure_rate_per_year",
    "relative_failure_rate",
    "mtbf_days",
    "repair_parts_cost_brl",
    "repair_cost_per_failure_brl",
    "repair_cost_per_unit_year_brl",
    "cluster",
    "clustering_method",
]


def failure_clusters(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    materials: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (site, equipment type) observed in [start, end] (CLUSTER_COLUMNS). The parts are
    valued at the materials' unit_cost; a material without a cost counts as zero. mtbf_days is NaN
    where no failure was seen."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    base = typed_installed_base(installed_base)
    first, stop = service_days(base, start, end)
    base["unit_days"] = np.maximum(stop - first, 0)
    base["in_service_at_end"] = (base["install_date"] <= end) & ~(base["decommission_date"] <= end)
    base["age_years"] = np.where(
        base["in_service_at_end"], (end - base["install_date"]).dt.days / DAYS_PER_YEAR, np.nan
    )
    base = base[base["unit_days"] > 0]
    keys = ["site_id", "equipment_type"]
    groups = base.groupby(keys).agg(
        units=("in_service_at_end", "sum"),
        unit_days=("unit_days", "sum"),
        mean_age_years=("age_years", "mean"),
    )
    orders = typed_work_orders(work_orders)
    failed = orders[
        (orders["kind"] == CORRECTIVE) & (orders["failure_date"] >= start) & (orders["failure_date"] <= end)
    ].merge(base[["equipment_id", "equipment_type"]], on="equipment_id", suffixes=("_order", ""))
    failed = failed.assign(site_id=failed["equipment_id"].map(base.set_index("equipment_id")["site_id"]))
    cost = materials.set_index("material_id")["unit_cost"].astype(float)
    lines = work_order_parts.merge(failed[["work_order_id", *keys]], on="work_order_id")
    lines = lines.assign(cost=lines["quantity"] * lines["material_id"].map(cost).fillna(0.0))
    out = groups.join(failed.groupby(keys).size().rename("failures")).join(
        lines.groupby(keys)["cost"].sum().rename("repair_parts_cost_brl")
    )
    out = out.fillna({"failures": 0, "repair_parts_cost_brl": 0.0}).reset_index()
    unit_years = out["unit_days"] / DAYS_PER_YEAR
    out["unit_years"] = unit_years
    out["failures"] = out["failures"].astype(int)
    out["units"] = out["units"].astype(int)
    out["failure_rate_per_year"] = out["failures"] / unit_years
    out["mtbf_days"] = (out["unit_days"] / out["failures"]).where(out["failures"] > 0)
    out["repair_cost_per_failure_brl"] = (out["repair_parts_cost_brl"] / out["failures"]).where(out["failures"] > 0)
    out["repair_cost_per_unit_year_brl"] = out["repair_parts_cost_brl"] / unit_years
    fleet = out.groupby("equipment_type")[["failures", "unit_years"]].transform("sum")
    fleet_rate = fleet["failures"] / fleet["unit_years"]
    out["relative_failure_rate"] = (out["failure_rate_per_year"] / fleet_rate).where(fleet_rate > 0, 0.0)
    clustering = choose_kmeans(out[["relative_failure_rate", "repair_cost_per_unit_year_brl"]], seed=seed)
    out["cluster"] = clustering.labels
    out["clustering_method"] = clustering.method
    return out[CLUSTER_COLUMNS].sort_values(keys, ignore_index=True)
