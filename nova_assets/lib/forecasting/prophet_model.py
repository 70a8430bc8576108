"""Prophet, one model per series, fitted in a process pool (it is the slowest family per series).

Only smooth/erratic series get here (the registry routes them): Prophet's Gaussian additive model
has nothing useful to say about mostly-zero demand. Of those, at most `FitSpec.max_series` with the
most demand are fitted (in the final fit, among those old enough for the backtest:
models.capped_min_points; the ensemble learns a weight set for the series Prophet covers and one
for the rest, see ensemble). On daily data the Brazilian (Bahia/Salvador)
holidays enter as two groups, major and other days, so sparse series do not fit one effect per
holiday name. Optional regressors come with the FitSpec (columns known over history and horizon).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import FitSpec, future_dates
from nova_assets.lib.forecasting.parallel import map_chunks
from nova_assets.lib.sources.holidays_calendar import build_holidays

MODEL = "Prophet"
MAX_SEASONS = 156  # three years of daily data: enough for a yearly cycle, and fits stay cheap
PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


@dataclass(frozen=True)
class _Settings:
    horizon: int
    season: int
    freq: str
    seed: int
    holidays: pd.DataFrame | None
    regressors: pd.DataFrame | None


def quiet_logs() -> None:
    """Prophet and cmdstanpy log every fit at INFO (and plotly's absence on import): silence them.

    cmdstanpy installs its own handler unless its logger already has one, hence the NullHandler.
    Also run in each worker process."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        logger.setLevel(logging.CRITICAL)
        logger.propagate = False


def holiday_frame(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Prophet's holidays frame: every Salvador holiday, grouped as major or other."""
    table = build_holidays(range(start.year, end.year + 1))
    return pd.DataFrame(
        {
            "holiday": np.where(table["is_major"], "major_holiday", "holiday"),
            "ds": pd.to_datetime(table["date"]),
            "lower_window": 0,
            "upper_window": 0,
        }
    )


def forecast(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    """Long frame of Prophet forecasts for every series of `history`."""
    history = history[history["unique_id"].isin(spec.top_series(history))]
    if history.empty:  # none has the history a final fit asks of the capped models (FitSpec.capped_min_points)
        return pd.DataFrame(columns=["unique_id", "ds", "model", "forecast"])
    recent = history.groupby("unique_id", sort=True).tail(MAX_SEASONS * spec.season)
    items = [(uid, group[["ds", "y"]].reset_index(drop=True)) for uid, group in recent.groupby("unique_id")]
    end = future_dates(recent["ds"].max(), spec.horizon, spec.freq)[-1]
    settings = _Settings(
        horizon=spec.horizon,
        season=spec.season,
        freq=spec.freq,
        seed=spec.seed,
        holidays=holiday_frame(recent["ds"].min(), end) if spec.freq == "D" else None,
        regressors=spec.regressors,
    )
    return pd.concat(map_chunks(_fit_many, items, settings, spec.n_jobs, initializer=quiet_logs), ignore_index=True)


def _fit_many(items: list[tuple[object, pd.DataFrame]], settings: _Settings) -> pd.DataFrame:
    from prophet import Prophet  # imported when needed: it is slow to import and logs on import

    frames = []
    for uid, frame in items:
        model = Prophet(
            growth="linear",
            holidays=settings.holidays,
            uncertainty_samples=0,
            daily_seasonality=False,
            weekly_seasonality=False,
            yearly_seasonality=settings.freq == "D" and len(frame) >= 730,
        )
        if settings.season > 1:
            model.add_seasonality(
                name="season",
                period=settings.season * PERIOD_DAYS[settings.freq],
                fourier_order=min(3, settings.season // 2),
            )
        future = pd.DataFrame({"ds": future_dates(frame["ds"].iloc[-1], settings.horizon, settings.freq)})
        if settings.regressors is not None:
            for column in settings.regressors.columns.drop("ds"):
                model.add_regressor(column)
            frame = frame.merge(settings.regressors, on="ds", how="left")
            future = future.merge(settings.regressors, on="ds", how="left")
        model.fit(frame, seed=settings.seed)
        predicted = model.predict(future)
        frames.append(
            pd.DataFrame(
                {"unique_id": uid, "ds": future["ds"], "model": MODEL, "forecast": predicted["yhat"].to_numpy()}
            )
        )
    return pd.concat(frames, ignore_index=True)
