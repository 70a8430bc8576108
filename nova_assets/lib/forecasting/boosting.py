"""Global gradient boosting (LightGBM and XGBoost): one model across every series of the table.

Design (documented choices):
- Direct multi-horizon: a training row is (series, origin o, step h) with target y[o + h]; its
  features are computed from the series' data up to o only, h is itself a feature, and one model
  forecasts every step from the real history (no own forecasts fed back as lags).
- Scale: targets and demand-valued features are divided by the series' mean demand up to the
  origin, so one model serves items selling 1 or 1,000 units without
  seeing the future through the scale; forecasts are multiplied back. A series without demand
  before an origin gives no training row there (it is routed to the baseline anyway).
- Features from the table's own frequency (PERIODS_PER_YEAR, the season): the last values
  (one season, at most MAX_LAGS), rolling means, shares of periods with demand and mean demand
  sizes over windows of a month to two years of that frequency, the intermittency statistics of
  the whole history (average inter-demand interval, CV^2 of sizes, periods since the last demand
  and since the first observation, demands so far), the same-season values known at the origin,
  the calendar of the target period, and the exogenous regressors of the target period when the
  FitSpec carries them (nothing is invented where there are none), and the advance demand when
  the family is given it (the parts of planned preventive orders, see panel.ADVANCE_DEMAND_COLUMNS):
  the quantity due in the target period and within PLAN_WINDOW_DAYS of it, and whether any is,
  counting only the lines known and pending at the row's origin, so training rows see the plan as
  it stood at their origin and the forecast the plan known today (no corrective orders: failures
  are not known in advance).
- Tweedie objective: non-negative, zero-inflated targets; forecasts are means.
- Three members: LightGBM, XGBoost and their mean (BOOSTING_MEAN). The two share features and
  objective and differ in how they grow trees, so their errors are close but not the same: the mean
  is steadier than either, and with one or two backtest cutoffs the ensemble's choice between them
  is close to a coin toss. Measured on every dev set and both sparse checks (docs/forecasting.md).
- Fixed seeds; training rows drawn at random across every series from targets of the last
  RECENT_YEARS years (at least MIN_RECENT_PERIODS periods), at most MAX_TRAIN_ROWS: several
  steps per (series, target) when the table is small, one when it is large. Each booster runs
  on one thread and with n_jobs >= 2 the two train side by side: on the 2-core target machine one
  OpenMP thread per model is faster than two threads per model, and the two models keep both
  cores busy (measurements: docs/benchmarks.md).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import (
    ADVANCE_DEMAND_COLUMNS,
    PERIODS_PER_YEAR,
    FitSpec,
    Panel,
    future_dates,
    long_forecast,
    pandas_freq,
    period_labels,
)
from nova_assets.lib.sources.holidays_calendar import build_holidays

if TYPE_CHECKING:
    import lightgbm as lgb
    import xgboost as xgb

MAX_TRAIN_ROWS = 400_000
RECENT_YEARS = 2
MIN_RECENT_PERIODS = 60
MAX_LAGS = 14
WINDOW_YEARS = (1 / 12, 1 / 4, 1 / 2, 1, 2)  # rolling windows as fractions of a year of the table's frequency
SEASONAL_LAGS = 2  # same-position values of the last two seasons known at the origin
TWEEDIE_POWER = 1.5  # LightGBM's default: the middle of the compound Poisson-gamma range
N_TREES = 300
LEARNING_RATE = 0.05
# Planned work is done around its planned date: advance demand due this close to a target period counts
PLAN_WINDOW_DAYS = 7
BOOSTING_MEAN = "BoostingMean"  # the member that is the mean of the two boosters' forecasts


def forecast(
    history: pd.DataFrame, classes: pd.Series, spec: FitSpec, advance_demand: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Long frame with a LightGBM and an XGBoost forecast for every series of `history`;
    `advance_demand` (ADVANCE_DEMAND_COLUMNS): demand known ahead, features of every row when given."""
    panel = Panel.from_history(history)
    n, periods = panel.values.shape
    dates = panel.dates.append(future_dates(panel.dates[-1], spec.horizon, spec.freq))
    plan = None if advance_demand is None else _AdvanceDemand(advance_demand, panel.ids, dates, spec.freq)
    features = _Features(panel, _calendar(dates, spec.freq), _exogenous(dates, spec.regressors), spec, plan)

    rng = np.random.default_rng(spec.seed)
    recent = max(MIN_RECENT_PERIODS, math.ceil(RECENT_YEARS * PERIODS_PER_YEAR[spec.freq]))
    rows, targets = np.meshgrid(np.arange(n), np.arange(max(1, periods - recent), periods), indexing="ij")
    rows, targets = rows.ravel(), targets.ravel()
    draws = max(1, min(spec.horizon, MAX_TRAIN_ROWS // max(len(rows), 1)))
    rows, targets = np.repeat(rows, draws), np.repeat(targets, draws)
    steps = rng.integers(1, spec.horizon + 1, size=len(rows))
    origins = targets - steps
    keep = origins >= 0
    rows, targets, steps = rows[keep], targets[keep], steps[keep]
    keep = ~np.isnan(panel.values[rows, targets]) & (features.scale[rows, targets - steps] > 0)
    rows, targets, steps = rows[keep], targets[keep], steps[keep]
    if len(rows) > MAX_TRAIN_ROWS:  # a seeded sample across every series and period
        pick = np.sort(rng.choice(len(rows), MAX_TRAIN_ROWS, replace=False))
        rows, targets, steps = rows[pick], targets[pick], steps[pick]
    x_train = features.design(rows, targets - steps, steps)
    y_train = panel.values[rows, targets] / features.scale[rows, targets - steps]

    rows = np.repeat(np.arange(n), spec.horizon)
    steps = np.tile(np.arange(1, spec.horizon + 1), n)
    x_future = features.design(rows, np.full(len(rows), periods - 1), steps)
    last_scale = np.nan_to_num(features.scale[:, -1])  # no demand yet: forecast zero

    def fit_predict(model: lgb.LGBMRegressor | xgb.XGBRegressor) -> np.ndarray:
        if len(y_train) == 0 or not np.any(y_train > 0):
            return np.zeros((n, spec.horizon))
        model.fit(x_train, y_train)
        return model.predict(x_future).reshape(n, spec.horizon) * last_scale[:, None]

    models = _models(spec)
    with ThreadPoolExecutor(max_workers=max(1, min(spec.n_jobs, len(models)))) as pool:  # both release the GIL
        predictions = dict(zip(models, pool.map(fit_predict, models.values()), strict=True))
    predictions[BOOSTING_MEAN] = np.mean(list(predictions.values()), axis=0)
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
            reg_lambda=1.0,
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
            min_child_weight=20.0,
            reg_lambda=1.0,
            subsample=0.8,
            colsample_bytree=0.8,
            tree_method="hist",
            random_state=spec.seed,
            n_jobs=1,
        ),
    }


def frequency_windows(freq: str, season: int) -> list[int]:
    """Rolling windows (periods) of the table's frequency: a month, a quarter, half a year, one and
    two years, and the season; at least two periods each."""
    year = PERIODS_PER_YEAR[freq]
    windows = {max(2, math.ceil(year * f)) for f in WINDOW_YEARS}
    if season > 1:
        windows.add(season)
    return sorted(windows)


class _Features:
    """Feature rows for (series, origin, step) triples, from data up to the origin only.

    Built from cumulative sums over the panel, so a feature of any origin is two look-ups and no
    (series x period x feature) array is held. Demand-valued features are divided by the origin's
    scale; shares, intervals and counts are not."""

    def __init__(
        self,
        panel: Panel,
        calendar: np.ndarray,
        exogenous: np.ndarray | None,
        spec: FitSpec,
        plan: _AdvanceDemand | None = None,
    ) -> None:
        y = panel.values
        n, periods = y.shape
        self.y, self.calendar, self.exogenous, self.season, self.plan = y, calendar, exogenous, spec.season, plan
        self.lags = min(MAX_LAGS, max(3, spec.season))
        self.windows = frequency_windows(spec.freq, spec.season)
        observed = ~np.isnan(y)
        filled = np.nan_to_num(y)
        positive = filled > 0

        def cumulative(values: np.ndarray) -> np.ndarray:  # C[:, o + 1] sums columns 0..o
            return np.concatenate([np.zeros((n, 1)), np.cumsum(values, axis=1)], axis=1)

        self.cum = {
            "sum": cumulative(filled),
            "count": cumulative(observed.astype(float)),
            "nonzero": cumulative(positive.astype(float)),
            "squares": cumulative(filled**2),
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            self.scale = self.cum["sum"][:, 1:] / self.cum["count"][:, 1:]  # mean demand up to each origin
        index = np.broadcast_to(np.arange(periods), (n, periods))
        self.last_demand = np.maximum.accumulate(np.where(positive, index, -1), axis=1)

    def _window(self, name: str, rows: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
        cum = self.cum[name]
        return cum[rows, origins + 1] - cum[rows, np.maximum(origins + 1 - window, 0)]

    def design(self, rows: np.ndarray, origins: np.ndarray, steps: np.ndarray) -> np.ndarray:
        scale = self.scale[rows, origins]
        targets = origins + steps
        columns = []
        for k in range(self.lags):
            index = origins - k
            columns.append(np.where(index >= 0, self.y[rows, np.maximum(index, 0)], np.nan) / scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            for window in self.windows:
                total = self._window("sum", rows, origins, window)
                count = self._window("count", rows, origins, window)
                nonzero = self._window("nonzero", rows, origins, window)
                columns += [
                    total / count / scale,
                    nonzero / count,
                    np.where(nonzero > 0, total / nonzero, np.nan) / scale,
                ]
            age = self.cum["count"][rows, origins + 1]
            demands = self.cum["nonzero"][rows, origins + 1]
            total = self.cum["sum"][rows, origins + 1]
            mean_size = total / demands
            size_var = self.cum["squares"][rows, origins + 1] / demands - mean_size**2
            last = self.last_demand[rows, origins]
            columns += [
                age / demands,  # average inter-demand interval
                np.where(demands > 1, np.maximum(size_var, 0) / mean_size**2, np.nan),  # CV^2 of sizes
                np.where(last >= 0, origins - last, age),  # periods since the last demand
                age,
                np.log1p(demands),
            ]
            if self.season > 1:
                laps = -(-steps // self.season)  # seasons back to the latest same-position value known at the origin
                for j in range(SEASONAL_LAGS):
                    index = targets - self.season * (laps + j)
                    columns.append(np.where(index >= 0, self.y[rows, np.maximum(index, 0)], np.nan) / scale)
            columns += [steps, np.log(scale)]
        parts = [np.column_stack(columns), self.calendar[targets]]
        if self.exogenous is not None:
            parts.append(self.exogenous[targets])
        if self.plan is not None:
            due, near = self.plan.known_at(rows, origins, targets)
            with np.errstate(invalid="ignore", divide="ignore"):
                parts.append(np.column_stack([due / scale, near / scale, near > 0]))
        return np.column_stack(parts).astype(np.float32)


class _AdvanceDemand:
    """Advance demand lines on the panel's periods: per (series, origin, target), the quantity due in
    the target period and within PLAN_WINDOW_DAYS of it, of the lines known and pending at the origin
    (known_from <= origin < known_until, by the periods holding those dates)."""

    def __init__(self, lines: pd.DataFrame, ids: np.ndarray, dates: pd.DatetimeIndex, freq: str) -> None:
        lines = lines[ADVANCE_DEMAND_COLUMNS]
        alias = pandas_freq(freq, dates)
        self.periods = len(dates)
        self.window = round(PLAN_WINDOW_DAYS * PERIODS_PER_YEAR[freq] / 365.25)

        def period(column: str, missing: int) -> np.ndarray:
            labels = period_labels(lines[column], freq, alias)
            index = np.searchsorted(dates.to_numpy(), labels.to_numpy(), side="left")
            return np.where(labels.isna(), missing, index)

        due = dates.get_indexer(period_labels(lines["ds"], freq, alias))
        row = pd.Index(ids).get_indexer(lines["unique_id"])
        keep = (row >= 0) & (due >= 0)
        base = pd.DataFrame(
            {
                "row": row,
                "due": due,
                "known_from": period("known_from", 0),
                "known_until": period("known_until", np.iinfo(np.int64).max),
                "quantity": lines["quantity"].to_numpy(dtype=float),
            }
        )[keep]
        offsets = np.arange(-self.window, self.window + 1)
        lines = base.loc[base.index.repeat(len(offsets))].reset_index(drop=True)
        lines["offset"] = np.tile(offsets, len(base))
        target = lines["due"] + lines["offset"]
        lines["key"] = lines["row"] * self.periods + target
        self.lines = lines[(target >= 0) & (target < self.periods)]

    def known_at(self, rows: np.ndarray, origins: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(due in the target period, due within the window of it) per query row."""
        queries = pd.DataFrame({"key": rows * self.periods + targets, "origin": origins, "query": np.arange(len(rows))})
        hits = queries.merge(self.lines, on="key")
        hits = hits[(hits["known_from"] <= hits["origin"]) & (hits["origin"] < hits["known_until"])]
        near = hits.groupby("query")["quantity"].sum()
        due = hits[hits["offset"] == 0].groupby("query")["quantity"].sum()
        return (
            due.reindex(range(len(rows)), fill_value=0.0).to_numpy(),
            near.reindex(range(len(rows)), fill_value=0.0).to_numpy(),
        )


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


def _exogenous(dates: pd.DatetimeIndex, regressors: pd.DataFrame | None) -> np.ndarray | None:
    """(periods, k) regressor values at each period of history and horizon; None without regressors."""
    if regressors is None:
        return None
    table = regressors.assign(ds=pd.to_datetime(regressors["ds"])).set_index("ds").sort_index()
    return table.reindex(dates).to_numpy(dtype=float)
