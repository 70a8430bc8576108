"""Alert rules: how urgent a material is, and what to tell the buyer, in Portuguese.

CRÍTICO  position at or below the reorder point, and the stock runs out before an order placed
         now can arrive (days until stockout < lead time): buy now and expedite.
ALTO     position at or below the reorder point; an order placed within the slack still arrives
         before the stockout.
MÉDIO    the position reaches the reorder point within `watch_days` at the forecast demand.
OK       otherwise.
"At or below" needs something to protect: a reorder point of 0 with nothing to order is OK.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Severity(StrEnum):
    CRITICO = "CRÍTICO"
    ALTO = "ALTO"
    MEDIO = "MÉDIO"
    OK = "OK"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.OK: 0, Severity.MEDIO: 1, Severity.ALTO: 2, Severity.CRITICO: 3}
# the order of every list and count of alerts: the most severe first
MOST_SEVERE_FIRST: tuple[str, ...] = tuple(str(s) for s in sorted(Severity, key=lambda s: s.rank, reverse=True))


@dataclass(frozen=True)
class Alert:
    severity: Severity
    message: str
    action: str
    detail: str
    order_quantity: float


def br_number(value: float) -> str:
    """Brazilian number format: 141,5 and 1.234 (one decimal at most)."""
    if math.isinf(value):
        return "∞"
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _within(days: float) -> str:
    if not math.isfinite(days):  # no demand forecast (a phased-out part, a new one): no date to meet
        return "(sem ruptura prevista)"
    whole = max(math.floor(days), 0)
    return "hoje" if whole == 0 else f"em até {whole} dia" + ("s" if whole > 1 else "")


def evaluate(
    stock_position: float,
    reorder_point: float,
    days_until_stockout: float,
    days_until_reorder_point: float,
    lead_time_days: float,
    order_quantity: float,
    watch_days: float,
) -> Alert:
    """Severity, message, action and detail for one material (see the module docstring)."""
    quantity = float(max(math.ceil(order_quantity), 0))
    position, point = br_number(stock_position), br_number(reorder_point)
    if stock_position <= reorder_point and quantity > 0:
        message = f"Estoque {position} <= PP {point}"
        stockout = f"ruptura prevista em {br_number(days_until_stockout)} dias"
        lead = f"entrega do fornecedor em {br_number(lead_time_days)} dias"
        if days_until_stockout < lead_time_days:
            return Alert(
                Severity.CRITICO,
                message,
                f"COMPRAR {br_number(quantity)} unidades {_within(days_until_stockout)}",
                f"{stockout}, {lead}: pedir entrega urgente",
                quantity,
            )
        return Alert(
            Severity.ALTO,
            message,
            f"COMPRAR {br_number(quantity)} unidades {_within(days_until_stockout - lead_time_days)}",
            f"{stockout}, {lead}",
            quantity,
        )
    if days_until_reorder_point <= watch_days and reorder_point > 0:
        return Alert(
            Severity.MEDIO,
            f"Estoque {position} próximo do PP {point}",
            "Acompanhar consumo e preparar pedido",
            f"atinge o PP em {br_number(days_until_reorder_point)} dias",
            0.0,
        )
    return Alert(Severity.OK, f"Estoque {position} acima do PP {point}", "Nenhuma", "", 0.0)


@dataclass(frozen=True)
class SourceDate:
    """A daily source's newest date, as its `fresh` check counts it, and the lag its own freshness rule allows.

    Each source keeps its own rule (its data contract): PTAX has no value on weekends and holidays, the
    weather archive lags ~5 days live; one flat limit would call them stale while their checks pass.
    """

    table: str
    latest: date | None  # None: no dated row
    max_lag_days: int


def stale_warning(reference: date, sources: Sequence[SourceDate]) -> str:
    """Empty when every source is within its own freshness rule on `reference` (the cycle's as-of date);
    otherwise the warning every message carries, naming each stale source and how old it is."""
    stale = []
    for source in sources:
        if source.latest is None:
            stale.append(f"{source.table} sem data (máximo {source.max_lag_days})")
            continue
        lag = (reference - source.latest).days
        if lag > source.max_lag_days:
            stale.append(
                f"{source.table} até {source.latest:%d/%m/%Y} "
                f"({lag} dias antes de {reference:%d/%m/%Y}, máximo {source.max_lag_days})"
            )
    return f"ATENÇÃO: dados desatualizados: {'; '.join(stale)}" if stale else ""
