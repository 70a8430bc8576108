"""Numbers and money written the Brazilian way, for the Portuguese explanations."""

from __future__ import annotations

import math


def pt_number(value: float, decimals: int = 1) -> str:
    """1234.5 -> '1.234,5'; trailing zeros dropped ('12' not '12,0')."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "∞" if value is not None and value > 0 else "-"
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def pt_money(value: float) -> str:
    """1234.5 -> 'R$ 1.234,50'."""
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def pt_date(value: object) -> str:
    """date -> 'dd/mm/aaaa'."""
    return value.strftime("%d/%m/%Y")  # type: ignore[attr-defined]
