"""Prescriptive recommendations per material: rule-based, explained in Portuguese, with the numbers.

Four rules, each a plain function of the cycle's reorder points, open orders and site stock:
  COMPRAR    the inventory position is at or below the reorder point: buy up to the order-up-to level;
  ANTECIPAR  an open order arrives after the stock on hand runs out: ask the supplier to expedite it;
  REMANEJAR  a site will run out before resupply while another site holds months of cover: transfer;
  REDUZIR    slow mover: the stock covers far more than it needs to: stop buying, return or move the excess.
Priority 1 (act today) .. 4 (when convenient).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nova_assets.lib.analytics.text import pt_date, pt_money, pt_number

DONOR_COVER_DAYS = 90.0  # a site with more cover than this can give stock away ...
DONOR_KEEP_DAYS = 60.0  # ... keeping this many days of its own demand
SLOW_COVER_DAYS = 180.0  # stock covering more than this is excess
EXCESS_KEEP_DAYS = 60.0  # beyond lead time: what a slow mover keeps
MIN_EXCESS_VALUE_BRL = 100.0
EXPEDITE_MIN_GAP_DAYS = 1.0

COLUMNS = [
    "recommendation_id",
    "material_id",
    "kind",
    "priority",
    "site_id",
    "from_site_id",
    "po_id",
    "quantity",
    "value_brl",
    "title",
    "explanation",
    "evidence",
]


def recommend(
    points: pd.DataFrame,
    materials: pd.DataFrame,
    open_orders: pd.DataFrame,
    site_stock: pd.DataFrame,
    sites: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """All recommendations of the cycle, most urgent and valuable first."""
    info = materials.set_index("material_id")
    rows = [
        *buy_now(points, info),
        *expedite(points, info, open_orders, as_of),
        *rebalance(site_stock, info, sites),
        *reduce_slow_movers(points, info),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["priority", "value_brl"], ascending=[True, False], ignore_index=True)


def _row(
    kind: str,
    material_id: str,
    priority: int,
    quantity: float,
    value: float,
    title: str,
    explanation: str,
    evidence: dict,
    site_id: str | None = None,
    from_site_id: str | None = None,
    po_id: str | None = None,
) -> dict:
    key = ":".join([kind, material_id, site_id or "", from_site_id or "", po_id or ""])
    return {
        "recommendation_id": key,
        "material_id": material_id,
        "kind": kind,
        "priority": priority,
        "site_id": site_id,
        "from_site_id": from_site_id,
        "po_id": po_id,
        "quantity": float(quantity),
        "value_brl": round(float(value), 2),
        "title": title,
        "explanation": explanation,
        "evidence": {k: _plain(v) for k, v in evidence.items()},
    }


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _plain(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _cover(stock: float, daily: float) -> float:
    return stock / daily if daily > 0 else math.inf


def buy_now(points: pd.DataFrame, info: pd.DataFrame) -> list[dict]:
    """COMPRAR: position <= reorder point; quantity up to the order-up-to level."""
    rows = []
    for p in points.itertuples():
        quantity = math.ceil(p.order_up_to - p.stock_position)
        if p.stock_position > p.reorder_point or quantity <= 0:
            continue
        m = info.loc[p.material_id]
        cover = _cover(max(p.stock_on_hand, 0.0), p.mean_daily_demand)
        urgent = cover < p.lead_time_days
        value = quantity * m.unit_cost
        explanation = (
            f"Posição de estoque {pt_number(p.stock_position)} (em mãos {pt_number(p.stock_on_hand)} + pedidos "
            f"{pt_number(p.on_order)}) está no ou abaixo do ponto de pedido {pt_number(p.reorder_point)}. "
            f"Consumo previsto de {pt_number(p.mean_daily_demand, 2)}/dia e lead time de "
            f"{pt_number(p.lead_time_days)} dias ({m.supplier_name}); o estoque em mãos dura "
            f"{pt_number(cover)} dias. Comprar {pt_number(quantity, 0)} {m.unit} ({pt_money(value)}) para voltar ao "
            f"nível máximo de {pt_number(p.order_up_to)}."
        )
        if urgent:
            explanation += " Urgente: o estoque acaba antes de um pedido feito hoje chegar."
        rows.append(
            _row(
                "COMPRAR",
                p.material_id,
                1 if urgent else 2,
                quantity,
                value,
                f"Comprar {pt_number(quantity, 0)} {m.unit} de {m.description}",
                explanation,
                {
                    "stock_position": p.stock_position,
                    "stock_on_hand": p.stock_on_hand,
                    "on_order": p.on_order,
                    "reorder_point": p.reorder_point,
                    "order_up_to": p.order_up_to,
                    "mean_daily_demand": p.mean_daily_demand,
                    "lead_time_days": p.lead_time_days,
                    "cover_days": cover,
                    "unit_cost": m.unit_cost,
                    "supplier_id": m.supplier_id,
                },
            )
        )
    return rows


def expedite(points: pd.DataFrame, info: pd.DataFrame, open_orders: pd.DataFrame, as_of: pd.Timestamp) -> list[dict]:
    """ANTECIPAR: the first open order of a material is due after its stock on hand runs out."""
    if open_orders.empty:
        return []
    orders = open_orders.assign(expected_date=pd.to_datetime(open_orders["expected_date"]))
    first = orders.sort_values(["expected_date", "po_id"]).groupby("material_id").head(1).set_index("material_id")
    rows = []
    for p in points.itertuples():
        if p.material_id not in first.index or p.mean_daily_demand <= 0:
            continue
        po = first.loc[p.material_id]
        arrives_in = max((po.expected_date - pd.Timestamp(as_of)).days, 0)
        cover = _cover(max(p.stock_on_hand, 0.0), p.mean_daily_demand)
        gap = arrives_in - cover
        if gap < EXPEDITE_MIN_GAP_DAYS:
            continue
        m = info.loc[p.material_id]
        shortage = math.ceil(gap * p.mean_daily_demand)
        value = shortage * m.unit_cost
        rows.append(
            _row(
                "ANTECIPAR",
                p.material_id,
                1 if m.criticality == "A" or gap >= 7 else 2,
                po.quantity,
                value,
                f"Antecipar o pedido {po.po_id} de {m.description}",
                f"O pedido {po.po_id} ({pt_number(po.quantity, 0)} {m.unit}, {m.supplier_name}) chega em "
                f"{arrives_in} dias ({pt_date(po.expected_date)}), mas o estoque em mãos de "
                f"{pt_number(p.stock_on_hand)} cobre só {pt_number(cover)} dias de consumo "
                f"({pt_number(p.mean_daily_demand, 2)}/dia). Pedir ao fornecedor antecipação de pelo menos "
                f"{math.ceil(gap)} dias; sem isso faltam cerca de {pt_number(shortage, 0)} {m.unit} "
                f"({pt_money(value)}).",
                {
                    "po_id": po.po_id,
                    "po_quantity": po.quantity,
                    "expected_date": po.expected_date.date(),
                    "arrives_in_days": arrives_in,
                    "stock_on_hand": p.stock_on_hand,
                    "cover_days": cover,
                    "gap_days": gap,
                    "mean_daily_demand": p.mean_daily_demand,
                    "shortage_units": shortage,
                },
                po_id=str(po.po_id),
            )
        )
    return rows


def rebalance(site_stock: pd.DataFrame, info: pd.DataFrame, sites: pd.DataFrame) -> list[dict]:
    """REMANEJAR: sites that run out before resupply receive from sites with months of cover."""
    names = sites.set_index("site_id")["site_name"]
    stock = site_stock[site_stock["material_id"].isin(info.index)]
    daily = stock["mean_daily_demand"]
    stock = stock.assign(
        cover=stock["on_hand"] / daily.where(daily > 0),
        need=np.ceil(daily * stock["resupply_days"] - stock["on_hand"]).astype("int64"),
        excess=np.floor(stock["on_hand"] - daily * DONOR_KEEP_DAYS).astype("int64"),
    )
    stock = stock.assign(
        receives=(daily > 0) & (stock["need"] > 0),
        gives=(stock["cover"].isna() | (stock["cover"] > DONOR_COVER_DAYS)) & (stock["excess"] > 0),
    )
    sides = stock.groupby("material_id")[["receives", "gives"]].transform("any")
    rows = []
    for material_id, group in stock[sides.all(axis=1)].groupby("material_id", sort=True):  # both sides present
        receivers, donors = group[group["receives"]], group[group["gives"]]
        m = info.loc[material_id]
        by_site = donors.set_index("site_id")
        available = by_site["excess"].to_dict()
        for r in receivers.sort_values("need", ascending=False).itertuples():
            donor = max((s for s in available if s != r.site_id and available[s] > 0), key=available.get, default=None)
            if donor is None:
                break
            quantity = min(available[donor], r.need)
            available[donor] -= quantity
            d = by_site.loc[donor]
            to_name, from_name = names.get(r.site_id, r.site_id), names.get(donor, donor)
            donor_cover = "sem consumo em 90 dias" if pd.isna(d.cover) else f"{pt_number(d.cover)} dias de cobertura"
            value = quantity * m.unit_cost
            rows.append(
                _row(
                    "REMANEJAR",
                    material_id,
                    2,
                    quantity,
                    value,
                    f"Transferir {pt_number(quantity, 0)} {m.unit} de {m.description} para {to_name}",
                    f"{to_name} tem {pt_number(r.on_hand)} {m.unit} para "
                    f"{pt_number(r.cover)} dias de consumo ({pt_number(r.mean_daily_demand, 2)}/dia), menos que os "
                    f"{pt_number(r.resupply_days)} dias até o reabastecimento. {from_name} tem "
                    f"{pt_number(d.on_hand)} {m.unit} ({donor_cover}). Transferir "
                    f"{pt_number(quantity, 0)} {m.unit} ({pt_money(value)}) evita a ruptura sem nova compra.",
                    {
                        "to_on_hand": r.on_hand,
                        "to_cover_days": r.cover,
                        "to_daily_demand": r.mean_daily_demand,
                        "resupply_days": r.resupply_days,
                        "from_on_hand": d.on_hand,
                        "from_cover_days": d.cover,
                        "from_daily_demand": d.mean_daily_demand,
                    },
                    site_id=r.site_id,
                    from_site_id=donor,
                )
            )
    return rows


def reduce_slow_movers(points: pd.DataFrame, info: pd.DataFrame) -> list[dict]:
    """REDUZIR: stock on hand covering more than SLOW_COVER_DAYS (or any stock with no expected demand)."""
    rows = []
    for p in points.itertuples():
        if p.stock_on_hand <= 0:
            continue
        cover = _cover(p.stock_on_hand, p.mean_daily_demand)
        if cover <= SLOW_COVER_DAYS:
            continue
        m = info.loc[p.material_id]
        keep = math.ceil(p.mean_daily_demand * (p.lead_time_days + EXCESS_KEEP_DAYS))
        excess = math.floor(p.stock_on_hand - max(keep, p.reorder_point))
        value = excess * m.unit_cost
        if excess <= 0 or value < MIN_EXCESS_VALUE_BRL:
            continue
        cover_text = "sem consumo previsto" if math.isinf(cover) else f"cobre {pt_number(cover, 0)} dias de consumo"
        rows.append(
            _row(
                "REDUZIR",
                p.material_id,
                3 if value >= 10_000 else 4,
                excess,
                value,
                f"Reduzir estoque parado de {m.description}",
                f"Estoque em mãos de {pt_number(p.stock_on_hand)} {m.unit} ({pt_money(p.stock_on_hand * m.unit_cost)}) "
                f"{cover_text} ({pt_number(p.mean_daily_demand, 2)}/dia previsto). Suspender novas compras e avaliar "
                f"devolução ou remanejamento do excedente de {pt_number(excess, 0)} {m.unit} ({pt_money(value)}), "
                f"mantendo {pt_number(max(keep, p.reorder_point))} para lead time + "
                f"{pt_number(EXCESS_KEEP_DAYS, 0)} dias.",
                {
                    "stock_on_hand": p.stock_on_hand,
                    "cover_days": cover,
                    "mean_daily_demand": p.mean_daily_demand,
                    "keep_units": max(keep, p.reorder_point),
                    "excess_units": excess,
                    "unit_cost": m.unit_cost,
                },
            )
        )
    return rows
