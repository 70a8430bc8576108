"""Daily weather covariates of the failure hazard, shared by the synthetic generator and the model.

heat = daily maximum temperature minus HEAT_REFERENCE_C (°C); rain = log(1 + precipitation mm), so
a storm counts more than a drizzle but a 100 mm day not ten times a 10 mm one. A day the weather
table lacks takes its calendar month's mean (the month's climatology), so a gap in the record does
not read as a cool dry day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HEAT_REFERENCE_C = 28.0  # about Salvador's mean daily maximum
COVARIATES = ("heat", "rain")


def weather_covariates(weather: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """(len(days), 2) frame indexed by day: heat and rain from a weather_daily frame (date, temp_max,
    precipitation_mm; several sources of a day are averaged)."""
    missing = {"date", "temp_max", "precipitation_mm"} - set(weather.columns)
    if missing:
        raise ValueError(f"weather frame lacks column(s) {sorted(missing)}")
    dated = weather.assign(date=pd.to_datetime(weather["date"]).dt.normalize())
    daily = dated.groupby("date")[["temp_max", "precipitation_mm"]].mean()
    covariates = pd.DataFrame(
        {"heat": daily["temp_max"] - HEAT_REFERENCE_C, "rain": np.log1p(daily["precipitation_mm"].clip(lower=0))}
    ).dropna()
    if covariates.empty:
        raise ValueError("weather frame has no day with both temp_max and precipitation_mm")
    climatology = covariates.groupby(covariates.index.month).mean()
    out = covariates.reindex(days)
    months = climatology.reindex(days.month)
    return out.fillna(pd.DataFrame(months.to_numpy(), index=days, columns=list(COVARIATES))).fillna(climatology.mean())
