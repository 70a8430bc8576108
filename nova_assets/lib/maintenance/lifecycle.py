"""Life cycle of parts: supersession (a part replaced by a successor) and phase-out (equipment models
being decommissioned take their parts' demand with them).

Supersession: the materials table says which part a material `supersedes`. Chains resolve to the
last successor (A -> B -> C: A and B both map to C). The predecessors' demand history is carried
forward to the successor (one series to forecast: demand_history.history_from_demand), alerts and
purchase orders are raised on the successor, and the predecessors' remaining stock is consumed
first: their stock counts in the successor's position, and the forecast is split so the old stock is
drawn down before any new part.

Phase-out: a material's demand comes from the equipment models that use it (where-used, from the
work orders). Its forecast on a day is scaled by the share of that use still in service then (each
model's share of the material's consumption times the fraction of its units not yet decommissioned);
a material whose users are all gone is flagged and forecast at zero, and its stock beyond the
demand its remaining installed base will make is the obsolescence risk.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from nova_assets.lib.maintenance.contracts import service_days, typed_installed_base

ACTIVE_BASE = "active"  # some unit using it has no planned decommission
PHASING_OUT = "phasing_out"  # every unit using it has a planned decommission date
NO_INSTALLED_BASE = "no_installed_base"  # no unit using it is in service


def supersession_chains(materials: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Final successor -> its predecessors, oldest first, from a materials frame with `material_id`
    and `supersedes` (blank: supersedes nothing). Raises ValueError on a part superseded by two
    materials or on a cycle."""
    links = materials.dropna(subset=["supersedes"])
    links = links[links["supersedes"].astype(str).str.strip() != ""]
    doubled = links["supersedes"][links["supersedes"].duplicated(keep=False)]
    if not doubled.empty:
        raise ValueError(f"materials superseded by more than one successor: {sorted(doubled.unique())}")
    successor_of = dict(zip(links["supersedes"].astype(str), links["material_id"].astype(str), strict=True))
    predecessor_of = {new: old for old, new in successor_of.items()}
    chains = {}
    for final in set(predecessor_of) - set(successor_of):
        chain, current = [], final
        while current in predecessor_of:
            current = predecessor_of[current]
            chain.append(current)
        chains[final] = tuple(reversed(chain))
    covered = {old for chain in chains.values() for old in chain}
    if covered != set(successor_of):
        raise ValueError(f"supersession cycle through {sorted(set(successor_of) - covered)}")
    return chains


def successor_map(chains: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Predecessor -> final successor."""
    return {old: new for new, olds in chains.items() for old in olds}


def to_successor(material_ids: pd.Series, successors: Mapping[str, str]) -> pd.Series:
    """Each id replaced by its final successor (alerts and orders are raised on the successor)."""
    return material_ids.map(lambda m: successors.get(m, m))


def successor_stock(stock: pd.DataFrame, successors: Mapping[str, str]) -> pd.DataFrame:
    """Stock per successor and site: on_hand (every unit usable as the successor), of which
    predecessor_on_hand is old parts. Input: material_id, site_id, on_hand."""
    moved = stock.assign(
        predecessor_on_hand=np.where(stock["material_id"].isin(list(successors)), stock["on_hand"], 0.0),
        material_id=to_successor(stock["material_id"], successors),
    )
    columns = ["on_hand", "predecessor_on_hand"]
    return moved.groupby(["material_id", "site_id"], as_index=False, sort=True)[columns].sum()


def consume_old_first(
    forecast: pd.DataFrame, stock: pd.DataFrame, chains: Mapping[str, tuple[str, ...]]
) -> pd.DataFrame:
    """Split the successors' forecast (unique_id, ds, forecast, and any key columns such as model)
    into the draw-down of the predecessors' stock and the demand left for the successor.

    The predecessors' stock (all sites; the oldest link of a chain first) serves each period's demand
    until it runs out. Rows for the predecessors are added (their forecast is that draw-down); the
    successor keeps the rest; the total per period does not change."""
    keys = [c for c in forecast.columns if c not in ("unique_id", "ds", "forecast")]
    old_stock = stock.groupby("material_id")["on_hand"].sum()
    out = forecast.copy()
    added = []
    for new, olds in chains.items():
        mine = out[out["unique_id"] == new].sort_values("ds")
        groups = mine.groupby(keys, sort=False) if keys else [(None, mine)]
        for _, group in groups:
            left = group["forecast"].to_numpy(float)
            for old in olds:
                served = _draw_down(left, float(old_stock.get(old, 0.0)))
                left = left - served
                added.append(group.assign(unique_id=old, forecast=served))
            out.loc[group.index, "forecast"] = left
    return pd.concat([out, *added], ignore_index=True)


def _draw_down(demand: np.ndarray, stock: float) -> np.ndarray:
    """Per period, the part of the demand a stock serves until it runs out."""
    return np.diff(np.r_[0.0, np.minimum(np.cumsum(demand), max(stock, 0.0))])


def units_in_service(installed_base: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """(days x equipment models) count of units in service each day (planned decommissions applied)."""
    base = typed_installed_base(installed_base)
    first, stop = service_days(base, days[0], days[-1])
    models = sorted(base["model"].unique())
    counts = np.zeros((len(days) + 1, len(models)))
    column = base["model"].map({m: i for i, m in enumerate(models)}).to_numpy()
    live = stop > first
    np.add.at(counts, (first[live], column[live]), 1)
    np.add.at(counts, (stop[live], column[live]), -1)
    return pd.DataFrame(np.cumsum(counts, axis=0)[:-1], index=days, columns=models)


def installed_base_coverage(
    installed_base: pd.DataFrame, where_used: pd.DataFrame, as_of: pd.Timestamp | str, horizon_end: pd.Timestamp | str
) -> pd.DataFrame:
    """Per material of `where_used` (material_id, model): units_now (units of the models using it in
    service on `as_of`), units_at_horizon_end, last_service_date (the last planned decommission when
    every such unit has one) and status: active, phasing_out or no_installed_base."""
    as_of, horizon_end = pd.Timestamp(as_of), pd.Timestamp(horizon_end)
    base = typed_installed_base(installed_base)
    in_service = (base["install_date"] <= as_of) & ~(base["decommission_date"] <= as_of)
    live = base[in_service]
    at_end = live[~(live["decommission_date"] <= horizon_end)]
    links = where_used[["material_id", "model"]].drop_duplicates()
    per_model = pd.DataFrame(
        {
            "units_now": live.groupby("model").size(),
            "units_at_horizon_end": at_end.groupby("model").size(),
            "open_ended": live["decommission_date"].isna().groupby(live["model"]).sum(),
            "last_service_date": live.groupby("model")["decommission_date"].max(),
        }
    )
    joined = links.merge(per_model, left_on="model", right_index=True, how="left")
    out = joined.groupby("material_id").agg(
        units_now=("units_now", "sum"),
        units_at_horizon_end=("units_at_horizon_end", "sum"),
        open_ended=("open_ended", "sum"),
        last_service_date=("last_service_date", "max"),
    )
    out["status"] = np.where(
        out["units_now"] == 0, NO_INSTALLED_BASE, np.where(out["open_ended"] > 0, ACTIVE_BASE, PHASING_OUT)
    )
    out["last_service_date"] = out["last_service_date"].where(out["status"] == PHASING_OUT)
    out[["units_now", "units_at_horizon_end"]] = out[["units_now", "units_at_horizon_end"]].astype(int)
    return out.drop(columns="open_ended").reset_index()


def phase_out_factor(
    unique_id: np.ndarray,
    ds: np.ndarray,
    installed_base: pd.DataFrame,
    where_used: pd.DataFrame,
    as_of: pd.Timestamp | str,
) -> np.ndarray:
    """Per forecast row (its material `unique_id` and day `ds`), the share of the material's use still in
    service that day: sum over the models using it of (the model's share of the material's consumption
    in `where_used`: material_id, model, quantity) x (its units in service that day / on `as_of`). 0 for
    a material no unit uses any more; 1 for a material `where_used` does not list or a day before `as_of`."""
    as_of = pd.Timestamp(as_of)
    ds = pd.DatetimeIndex(ds)
    factor = np.ones(len(ds))
    if not len(ds):
        return factor
    days = pd.date_range(as_of, ds.max(), freq="D")
    units = units_in_service(installed_base, days)
    with np.errstate(invalid="ignore", divide="ignore"):
        surviving = (units / units.iloc[0]).replace(np.inf, np.nan).fillna(0.0)  # no unit on as_of: nothing
    usage = where_used.groupby(["material_id", "model"])["quantity"].sum()
    share = (usage / usage.groupby(level=0).transform("sum")).unstack(fill_value=0.0)
    share = share.reindex(columns=surviving.columns, fill_value=0.0)
    by_day = surviving.to_numpy() @ share.to_numpy().T  # (days, materials)
    day, material = days.get_indexer(ds), share.index.get_indexer(unique_id)
    found = (day >= 0) & (material >= 0)
    factor[found] = by_day[day[found], material[found]]
    return factor


def apply_phase_out(
    forecast: pd.DataFrame, installed_base: pd.DataFrame, where_used: pd.DataFrame, as_of: pd.Timestamp | str
) -> pd.DataFrame:
    """The forecast (unique_id, ds, forecast, ...) scaled, per material and day, by the share of its
    use still in service (phase_out_factor). A material no unit uses any more is forecast at zero; a
    material `where_used` does not list is left as it is. The causal member already counts
    decommissions: apply this to the others."""
    ds = pd.to_datetime(forecast["ds"])
    factor = phase_out_factor(forecast["unique_id"].to_numpy(), ds.to_numpy(), installed_base, where_used, as_of)
    return forecast.assign(ds=ds, forecast=forecast["forecast"] * factor).reset_index(drop=True)


def remaining_life_demand(forecast: pd.DataFrame, coverage: pd.DataFrame) -> pd.Series:
    """Expected demand per material still to come from its installed base: the (phase-out adjusted)
    forecast summed up to its last service date for a phasing-out part, zero for a part without
    installed base. Forecast the causal member as far as the last decommission for a full count."""
    ends = coverage.set_index("material_id")
    rows = forecast.merge(ends[["status", "last_service_date"]], left_on="unique_id", right_index=True)
    before_end = (rows["status"] == PHASING_OUT) & (pd.to_datetime(rows["ds"]) < rows["last_service_date"])
    demand = rows[before_end].groupby("unique_id")["forecast"].sum()
    return demand.reindex(ends.index, fill_value=0.0).rename("remaining_demand")


def obsolescence_risk(
    stock: pd.DataFrame, materials: pd.DataFrame, coverage: pd.DataFrame, remaining_demand: pd.Series
) -> pd.DataFrame:
    """Per material whose installed base is phasing out or gone: on_hand (all sites), unit_cost,
    remaining_demand, excess_units = on_hand beyond it, obsolescence_risk_brl = excess x unit cost."""
    at_risk = coverage[coverage["status"].isin([PHASING_OUT, NO_INSTALLED_BASE])]
    on_hand = stock.groupby("material_id")["on_hand"].sum()
    cost = materials.set_index("material_id")["unit_cost"].astype(float)
    out = at_risk[["material_id", "status", "last_service_date"]].copy()
    out["on_hand"] = out["material_id"].map(on_hand).fillna(0.0)
    out["unit_cost"] = out["material_id"].map(cost).fillna(0.0)
    out["remaining_demand"] = out["material_id"].map(remaining_demand).fillna(0.0)
    out["excess_units"] = (out["on_hand"] - out["remaining_demand"]).clip(lower=0.0)
    out["obsolescence_risk_brl"] = out["excess_units"] * out["unit_cost"]
    return out.sort_values("obsolescence_risk_brl", ascending=False, ignore_index=True)


def obsolescence_kpi(risk: pd.DataFrame) -> dict[str, float]:
    """The gold KPI: materials at risk, their excess units and its value in BRL."""
    return {
        "materials_at_risk": int((risk["excess_units"] > 0).sum()),
        "excess_units": float(risk["excess_units"].sum()),
        "obsolescence_risk_brl": float(risk["obsolescence_risk_brl"].sum()),
    }
