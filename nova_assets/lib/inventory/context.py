"""Context: the design's demand multipliers (capped) and holiday-aware lead times.

The design multiplies safety stock by weather, holiday and 5G factors that compound to 2.6x
(rain 1.30 * heat 1.15 * humidity 1.20 * 5G 1.45). In this project those drivers are regressors
of the demand forecast, so the project policy applies no multiplier unless asked to
(NOVA_CONTEXT_MULTIPLIER=on), and then only weather and 5G, compounded and capped at
NOVA_CONTEXT_FACTOR_CAP. The baseline policy keeps the design's factors, under the same cap.
Holidays never shrink safety stock: they lengthen lead times counted in business days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

# The design's thresholds and multipliers.
RAIN_MM, RAIN_FACTOR = 50.0, 1.30
HEAT_C, HEAT_FACTOR = 35.0, 1.15
HUMID_PCT, HUMID_FACTOR = 80.0, 1.20
HOLIDAY_MAJOR_FACTOR, HOLIDAY_FACTOR = 0.75, 0.85
G5_MAX_LIFT = 0.45  # 5G factor 1.0 .. 1.45 with the growth of 5G stations


@dataclass(frozen=True)
class Conditions:
    """What the design's factors look at: the latest weather, holidays ahead, 5G growth."""

    precipitation_mm: float = 0.0
    temp_max_c: float = 0.0
    humidity_pct: float = 0.0
    major_holiday_ahead: bool = False
    holiday_ahead: bool = False
    g5_growth: float = 0.0  # relative growth of 5G stations over the last quarter


def design_factors(conditions: Conditions, *, include_holidays: bool = True) -> dict[str, float]:
    """The design's multipliers that apply under `conditions` (1.0 when a condition is off)."""
    factors = {
        "rain": RAIN_FACTOR if conditions.precipitation_mm > RAIN_MM else 1.0,
        "heat": HEAT_FACTOR if conditions.temp_max_c > HEAT_C else 1.0,
        "humidity": HUMID_FACTOR if conditions.humidity_pct > HUMID_PCT else 1.0,
        "5g": 1.0 + min(max(conditions.g5_growth, 0.0), G5_MAX_LIFT),
    }
    if include_holidays:
        factors["holiday"] = (
            HOLIDAY_MAJOR_FACTOR
            if conditions.major_holiday_ahead
            else HOLIDAY_FACTOR
            if conditions.holiday_ahead
            else 1.0
        )
    return factors


def compound(factors: dict[str, float], cap: float) -> float:
    """Product of the factors, capped at `cap` (and floored at 1 / cap)."""
    if cap < 1:
        raise ValueError("the cap must be at least 1")
    return min(max(math.prod(factors.values()), 1.0 / cap), cap)


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def calendar_lead_time(start: date, business_days: float, holidays: frozenset[date]) -> float:
    """Calendar days after `start` until `business_days` working days (Mon-Fri, not a holiday)
    have passed; a fraction of a business day is the same fraction of the calendar gap to the next one."""
    if business_days < 0:
        raise ValueError("lead time must be non-negative")
    whole = math.floor(business_days)
    counted, day, reached = 0, start, []
    while counted < whole + 1:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            counted += 1
            reached.append((day - start).days)
    before = reached[whole - 1] if whole > 0 else 0
    return before + (business_days - whole) * (reached[whole] - before)


def current_conditions(
    weather: pd.DataFrame, holidays: pd.DataFrame, anatel: pd.DataFrame, cycle_date: date, days_ahead: int = 30
) -> Conditions:
    """What the design looked at: the latest observed weather day, holidays in the next
    `days_ahead` days, and 5G station growth over the last three months (all municipalities)."""
    latest = weather.assign(date=pd.to_datetime(weather["date"])).sort_values("date").iloc[-1]
    when = pd.to_datetime(holidays["date"]).dt.date
    ahead = holidays[(when > cycle_date) & (when <= cycle_date + timedelta(days=days_ahead))]
    totals = anatel.groupby(pd.to_datetime(anatel["month"]))["stations_5g_total"].sum().sort_index()
    growth = float(totals.iloc[-1] / totals.iloc[-4] - 1) if len(totals) >= 4 and totals.iloc[-4] > 0 else 0.0
    return Conditions(
        precipitation_mm=float(latest.get("precipitation_mm", 0.0) or 0.0),
        temp_max_c=float(latest.get("temp_max", 0.0) or 0.0),
        humidity_pct=float(latest.get("humidity_avg", 0.0) or 0.0),
        major_holiday_ahead=bool(ahead["is_major"].any()),
        holiday_ahead=not ahead.empty,
        g5_growth=growth,
    )
