"""Alert rules: how urgent a material is, and what to tell the buyer, in Portuguese."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    CRITICO = "CRÍTICO"
    ALTO = "ALTO"
    MEDIO = "MÉDIO"
    OK = "OK"


WATCH_MARGIN = 1.2  # MÉDIO: position within 20 % above the reorder point


@dataclass(frozen=True)
class Alert:
    severity: Severity
    message: str
    action: str
    order_quantity: float


def _br(value: float) -> str:
    """Brazilian number format: 141,5 and 1.234."""
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def evaluate(
    stock_position: float,
    reorder_point: float,
    days_until_stockout: float,
    lead_time_days: float,
    order_up_to: float,
) -> Alert:
    """CRÍTICO: at/below the reorder point and out of stock before an order placed now arrives.
    ALTO: at/below the reorder point. MÉDIO: within the watch margin above it. Otherwise OK."""
    order_quantity = max(math.ceil(order_up_to - stock_position), 0)
    if stock_position <= reorder_point:
        message = f"Estoque {_br(stock_position)} <= PP {_br(reorder_point)}"
        if days_until_stockout < lead_time_days:
            days = max(math.floor(days_until_stockout), 0)
            return Alert(Severity.CRITICO, message,
                         f"COMPRAR {_br(order_quantity)} unidades em até {days} dias", order_quantity)
        return Alert(Severity.ALTO, message, f"COMPRAR {_br(order_quantity)} unidades", order_quantity)
    if stock_position <= reorder_point * WATCH_MARGIN:
        return Alert(Severity.MEDIO, f"Estoque {_br(stock_position)} próximo do PP {_br(reorder_point)}",
                     "Acompanhar consumo e preparar pedido", 0)
    return Alert(Severity.OK, f"Estoque {_br(stock_position)} acima do PP {_br(reorder_point)}", "Nenhuma", 0)
