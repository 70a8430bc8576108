"""Global gradient boosting (LightGBM and XGBoost): one model across every item.

Design (documented choices):
- Scale: every sample is divided by its series' mean non-zero demand known at the sample's origin
  (panel.origin_scales), so one model serves items selling 1 or 1,000 units without seeing the
  future through the scale; forecasts are multiplied back.
- Direct multi-horizon with the horizon as a feature: a training row is (item, target period t,
  horizon h drawn at random in 1..H) whose features are computed at the origin t - h only: the
  last values, rolling means and non-zero shares, periods since the last demand, the values of the
  same season position that are already known at the origin, the calendar of t and h itself. One
  model then forecasts every step from the real history, without feeding its own means back as
  lags (which distorts the zero/non-zero features of intermittent series in a recursive scheme).
- Tweedie objective: non-negative, zero-inflated targets; forecasts are means.
- Fixed seeds; training targets from the last RECENT_SEASONS seasons, at most MAX_TRAIN_ROWS of
  them drawn at random across all series (the cost grows with the rows, and rows drawn from all
  series keep every series represented). Each booster runs on one thread and with n_jobs >= 2 the
  two train side by side: on the 2-core target machine one OpenMP thread per model is faster than
  two threads per model, and the two models keep both cores busy (measurements: docs/benchmarks.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import FitSpec, Panel, future_dates, long_forecast
from nova_assets.lib.sources.holidays_calendar import build_holidays

if TYPE_CHECKING:
    import lightgbm as lgb
    import xgboost as xgb

MAX_TRAIN_ROWS = 400_000
RECENT_SEASONS = 104  # training targets from the last two years of daily data (weekly/monthly: all of it)
SEASONAL_LAGS = 4  # same-position values of the last four seasons known at the origin
TWEEDIE_POWER = 1.2
N_TREES = 300
LEARNING_RATE = 0.05


def forecast(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    """Long frame with a LightGBM and an XGBoost forecast for every series of `history`."""
    panel = Panel.from_history(history)
    y = panel.values
    n, periods = y.shape
    scale = panel.origin_scales()
    dates = panel.dates.append(future_dates(panel.dates[-1], spec.horizon, spec.freq))
    features = _Features(y, scale, _calendar(dates, spec.freq), spec.season)

    rng = np.random.default_rng(spec.seed)
    first = max(1, periods - RECENT_SEASONS * spec.season)
    rows, targets = np.meshgrid(np.arange(n), np.arange(first, periods), indexing="ij")
    rows, targets = rows.ravel(), targets.ravel()
    steps = rng.integers(1, spec.horizon + 1, size=len(rows))
    keep = targets - steps >= 0
    rows, targets, steps = rows[keep], targets[keep], steps[keep]
    keep = ~np.isnan(y[rows, targets]) & np.isfinite(scale[rows, targets - steps])  # demand seen before the origin
    rows, targets, steps = rows[keep], targets[keep], steps[keep]
    if len(rows) > MAX_TRAIN_ROWS:  # a seeded sample across every series and period
        pick = np.sort(rng.choice(len(rows), MAX_TRAIN_ROWS, replace=False))
        rows, targets, steps = rows[pick], targets[pick], steps[pick]
    x_train = features.design(rows, targets, steps)
    y_train = y[rows, targets] / scale[rows, targets - steps]

    rows = np.repeat(np.arange(n), spec.horizon)
    steps = np.tile(np.arange(1, spec.horizon + 1), n)
    x_future = features.design(rows, periods - 1 + steps, steps)
    last_scale = np.nan_to_num(scale[:, -1])  # only no-demand series lack one; they are routed away

    def fit_predict(model: lgb.LGBMRegressor | xgb.XGBRegressor) -> np.ndarray:
        if len(y_train) == 0 or not np.any(y_train > 0):
            return np.zeros((n, spec.horizon))
        model.fit(x_train, y_train)
        return model.predict(x_future).reshape(n, spec.horizon) * last_scale[:, None]

    models = _models(spec)
    with ThreadPoolExecutor(max_workers=max(1, min(spec.n_jobs, len(models)))) as pool:  # both release the GIL
        predictions = dict(zip(models, pool.map(fit_predict, models.values()), strict=True))
    return long_forecast(panel.ids, dates[periods:], predictions)


def _models(spec: FitSpec) -> dict[str, lgb.LGBMRegressor | xgb.XGBRegressor]:
    import lightgbm as lgb  # imported when fitting: the Dagster step processes that do not fit start faster
    import xgboost as xgb

    return {
        "LightGBM": lgb.LGBMRegressor(
            objective="tweedie",
            tweedie_variance_power=TWEEDIE_POWER,
            n_estimators=N_TREES,
            learning_rate=LEARNING_RATE,
            num_leaves=15,
            min_child_samples=200,
            reg_lambda=10.0,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=spec.seed,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        ),
        "XGBoost": xgb.XGBRegressor(
            objective="reg:tweedie",
            tweedie_variance_power=TWEEDIE_POWER,
            n_estimators=N_TREES,
            learning_rate=LEARNING_RATE,
            max_depth=4,
            min_child_weight=5.0,
            reg_lambda=10.0,
            subsample=0.8,
            colsample_bytree=0.8,
            tree_method="hist",
            random_state=spec.seed,
            n_jobs=1,
        ),
    }


def _windows(season: int) -> list[int]:
    return sorted({max(2, season), 4 * season, 12 * season})


class _Features:
    """Feature rows for (series, target period, horizon) triples, from data up to the origin only.

    Demand-valued features (last values, rolling means and sizes, same-season values) are divided
    by the origin's scale; shares of periods with demand and periods since the last one are not."""

    def __init__(self, y: np.ndarray, scale: np.ndarray, calendar: np.ndarray, season: int) -> None:
        self.y, self.scale, self.calendar, self.season = y, scale, calendar, season
        observed = ~np.isnan(y)
        filled = np.nan_to_num(y)
        positive = (filled > 0).astype(float)
        levels = [_shift(y, k) for k in range(max(3, min(season, 14)))]
        cum = {
            name: np.concatenate([np.zeros((len(y), 1)), np.cumsum(a, axis=1)], axis=1)
            for name, a in (("sum", filled), ("count", observed.astype(float)), ("nonzero", positive))
        }
        shares = []
        with np.errstate(invalid="ignore", divide="ignore"):
            for window in sorted({max(2, season), 4 * season, 12 * season}):
                total, count, nonzero = (_window_sum(cum[name], window) for name in ("sum", "count", "nonzero"))
                levels += [total / count, np.where(nonzero > 0, total / nonzero, np.nan)]
                shares.append(nonzero / count)
            levels.append(cum["sum"][:, 1:] / cum["count"][:, 1:])
        shares.append(_since_last_demand(positive, cap=12 * season))
        self.levels = np.stack(levels, axis=2).astype(np.float32)
        self.shares = np.stack(shares, axis=2).astype(np.float32)

    def design(self, rows: np.ndarray, targets: np.ndarray, steps: np.ndarray) -> np.ndarray:
        origins = targets - steps
        scale = self.scale[rows, origins]
        laps = -(-steps // self.season)  # seasons back to the latest same-position value known at the origin
        seasonal = []
        for j in range(SEASONAL_LAGS):
            index = targets - self.season * (laps + j)
            seasonal.append(np.where(index >= 0, self.y[rows, np.maximum(index, 0)], np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.column_stack(
                [
                    self.levels[rows, origins] / scale[:, None],
                    np.column_stack(seasonal) / scale[:, None],
                    self.shares[rows, origins],
                    steps,
                    self.calendar[targets],
                    np.log(scale),
                ]
            ).astype(np.float32)


def _shift(y: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(y, np.nan)
    out[:, k:] = y[:, : y.shape[1] - k]
    return out


def _window_sum(cumulative: np.ndarray, window: int) -> np.ndarray:
    """Sum over columns o - window + 1 .. o from a cumulative sum with a leading zero column."""
    ends = np.arange(1, cumulative.shape[1])
    return cumulative[:, ends] - cumulative[:, np.maximum(ends - window, 0)]


def _since_last_demand(positive: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty_like(positive)
    since = np.full(len(positive), float(cap))
    for o in range(positive.shape[1]):
        since = np.where(positive[:, o] > 0, 0.0, np.minimum(since + 1, cap))
        out[:, o] = since
    return out


def _calendar(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Calendar of each period: weekday, day of month, month and holiday (D); week and month (W); month (M)."""
    if freq == "D":
        holidays = set(pd.to_datetime(build_holidays(range(dates[0].year, dates[-1].year + 1))["date"]))
        columns = [dates.dayofweek, dates.day, dates.month, dates.isin(holidays)]
    elif freq == "W":
        columns = [dates.isocalendar().week.to_numpy(), dates.month]
    else:
        columns = [dates.month]
    return np.column_stack([np.asarray(c, dtype=float) for c in columns]).astype(np.float32)
