"""Model families and how to fit them: one registry, two entry points (fit_predict, cross_validate).

Every family is a forecaster `(history, classes, spec) -> long frame (unique_id, ds, model, forecast)`
that only sees the series of the demand classes it is made for (see demand_class); the others are
left to the baseline, which covers every series. Outputs are clipped at zero.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA

from nova_assets.lib.forecasting import boosting, installed_base, lstm, prophet_model, statistical
from nova_assets.lib.forecasting.demand_class import MODELLED, REGULAR, DemandClass, route_classes
from nova_assets.lib.forecasting.panel import FitSpec, Panel, future_dates, long_forecast, pandas_freq
from nova_assets.lib.maintenance.parts_demand import planned_part_lines

ZERO_MODEL = "Zero"
NAIVE_MODEL = "SeasonalNaive"
AVERAGE_MODEL = "HistoricAverage"
SILENT_RATE_MODEL = "SilentRate"
LONG_COLUMNS = ["unique_id", "ds", "model", "forecast", "demand_class"]
BACKTEST_COLUMNS = ["unique_id", "ds", "cutoff", "y", *LONG_COLUMNS[2:]]
# Prophet and AutoARIMA, the costliest fits per series (docs/benchmarks.md), fit at most this many
# series, those with the most demand: at 10,000 items they would otherwise cost more than the whole budget.
# In a final fit, only series with the history to have been fitted in the backtest (capped_min_points).
EXPENSIVE_MAX_SERIES = 500
# Rolling-origin backtest windows the ensemble learns from when the history allows (see plan_windows):
# more cutoffs make the out-of-sample comparison of members less noisy; each one is a fit of every family.
MAX_BACKTEST_WINDOWS = 3

Forecaster = Callable[[pd.DataFrame, pd.Series, FitSpec], pd.DataFrame]


@dataclass(frozen=True)
class ModelFamily:
    """A group of models fitted together and tracked as one MLflow run."""

    name: str
    description: str
    forecaster: Forecaster
    classes: frozenset[DemandClass] = MODELLED  # the series it fits; the rest fall back to the baseline
    # Fits every series on its own and costs enough to be split into material groups (material_groups);
    # the global models learn across series and the vectorised baseline takes seconds: one step each.
    fans_out: bool = False
    # Observations a series needs for this family's methods; shorter ones are left to the other members.
    min_points: int = 1
    # How the family reads the plant-maintenance tables when the cycle has them (with_maintenance):
    # its forecaster bound to them. None: the demand history is all it reads.
    binds_maintenance: Callable[[installed_base.MaintenanceInputs], Forecaster] | None = None
    # Keeps one core busy whatever n_jobs (the LSTM's single torch thread): pipeline.run_forecast fits
    # it in a process of its own beside the other families instead of leaving the other core idle.
    single_core: bool = False


def _baseline(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    """Last season repeated (the mean of the history if shorter than a season), the historic average,
    and all zeros; for the series without any demand (NO_DEMAND), also their pooled silent_item_rate."""
    panel = Panel.from_history(history)
    short = max(0, spec.season - panel.values.shape[1])
    last = np.pad(panel.values, ((0, 0), (short, 0)), constant_values=np.nan)[:, -spec.season :]
    complete = ~np.isnan(last).any(axis=1)
    level = np.nanmean(panel.values, axis=1)  # every series has at least one observation
    steps = np.arange(spec.horizon) % spec.season
    naive = np.where(complete[:, None], np.nan_to_num(last)[:, steps], level[:, None])
    dates = future_dates(panel.dates[-1], spec.horizon, spec.freq)
    forecasts = {
        NAIVE_MODEL: naive,
        AVERAGE_MODEL: np.repeat(level[:, None], spec.horizon, axis=1),
        ZERO_MODEL: np.zeros_like(naive),
    }
    long = long_forecast(panel.ids, dates, forecasts)
    silent = np.asarray(classes.reindex(panel.ids) == DemandClass.NO_DEMAND)
    if not silent.any():
        return long
    rate = np.full((int(silent.sum()), spec.horizon), silent_item_rate(panel.values, spec.horizon))
    return pd.concat([long, long_forecast(panel.ids[silent], dates, {SILENT_RATE_MODEL: rate})], ignore_index=True)


def silent_item_rate(values: np.ndarray, horizon: int) -> float:
    """Demand per period, over the last `horizon` periods, of the items that had none before them:
    what an item without demand so far can expect over the next horizon. An item without demand has
    no evidence of its own, and zero is a forecast that misses every one that starts to sell (on
    carparts they carried 6 % of the held-out demand at the first origin), so the estimate is pooled
    across the items as silent a horizon ago. 0 when none was. `values`: (series, periods), NaN
    before a series starts."""
    periods = values.shape[1]
    if periods <= horizon:
        return 0.0
    before, after = values[:, : periods - horizon], values[:, periods - horizon :]
    silent = ~np.isnan(before).all(axis=1) & ~(np.nan_to_num(before) > 0).any(axis=1)
    observed = ~np.isnan(after[silent])
    return float(np.nansum(after[silent]) / observed.sum()) if observed.any() else 0.0


def _statsforecast(history: pd.DataFrame, models: list, spec: FitSpec) -> pd.DataFrame:
    engine = StatsForecast(models=models, freq=pandas_freq(spec.freq, history["ds"]), n_jobs=spec.n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the ARIMA/ETS searches
        wide = engine.forecast(df=history, h=spec.horizon)
    wide = wide.reset_index(drop="unique_id" not in wide.index.names)
    return wide.melt(id_vars=["unique_id", "ds"], var_name="model", value_name="forecast")


def _boosting_with_plan(maintenance: installed_base.MaintenanceInputs) -> Forecaster:
    """The global boosting models with the preventive plan as advance demand features (none without a plan)."""
    plan = planned_part_lines(maintenance.work_orders, maintenance.work_order_parts)
    return functools.partial(boosting.forecast, advance_demand=None if plan.empty else plan)


def _installed_base_from(maintenance: installed_base.MaintenanceInputs) -> Forecaster:
    return functools.partial(installed_base.forecast, inputs=maintenance)


def _intermittent(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    models = [CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA()]
    return _statsforecast(history, models, spec)


FAMILIES: dict[str, ModelFamily] = {
    "baseline": ModelFamily(
        name="baseline",
        description="seasonal naive, historic average and the all-zero forecast: what any model must beat",
        forecaster=_baseline,
        classes=frozenset(DemandClass),
    ),
    "intermittent": ModelFamily(
        name="intermittent",
        description="Croston SBA, TSB, ADIDA and IMAPA: methods made for many-zero demand",
        forecaster=_intermittent,
        fans_out=True,
    ),
    "statistical": ModelFamily(
        name="statistical",
        description="AutoETS on every demand class, AutoARIMA on the smooth/erratic series with most demand",
        forecaster=statistical.forecast,
        fans_out=True,
        min_points=statistical.MIN_POINTS,
    ),
    "prophet": ModelFamily(
        name="prophet",
        description="Prophet with Brazilian holidays, on the smooth/erratic series with most demand",
        forecaster=prophet_model.forecast,
        classes=REGULAR,
        fans_out=True,
    ),
    "gradient_boosting": ModelFamily(
        name="gradient_boosting",
        description="global LightGBM, XGBoost (Tweedie, direct multi-horizon) and their mean, on lag/rolling/calendar"
        " features and, with plant maintenance, the parts of the preventive plan known at each origin",
        forecaster=boosting.forecast,
        binds_maintenance=_boosting_with_plan,
    ),
    "lstm": ModelFamily(
        name="lstm",
        description="one global LSTM across items on scaled windows, all horizons at once",
        forecaster=lstm.forecast,
        single_core=True,
    ),
    installed_base.INSTALLED_BASE_FAMILY: ModelFamily(
        name=installed_base.INSTALLED_BASE_FAMILY,
        description=installed_base.DESCRIPTION,
        forecaster=installed_base.forecast,  # forecasts nothing until given the maintenance tables
        classes=frozenset(DemandClass),
        binds_maintenance=_installed_base_from,
    ),
}


def with_maintenance(family: ModelFamily, maintenance: installed_base.MaintenanceInputs) -> ModelFamily:
    """`family` reading the cycle's plant-maintenance tables (ModelFamily.binds_maintenance); the
    families that read only the demand history are returned as they are."""
    if family.binds_maintenance is None:
        return family
    return dataclasses.replace(family, forecaster=family.binds_maintenance(maintenance))


def _empty_forecast(history: pd.DataFrame) -> pd.DataFrame:
    """No rows, typed, so that concatenating it with other families' rows keeps the dtypes."""
    return pd.DataFrame(
        {
            "unique_id": pd.Series(dtype=history["unique_id"].dtype),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "model": pd.Series(dtype=object),
            "forecast": pd.Series(dtype=float),
            "demand_class": pd.Series(dtype=object),
        }
    )


def fit_predict(
    history: pd.DataFrame,
    family: ModelFamily,
    horizon: int,
    season: int,
    n_jobs: int = 1,
    freq: str = "D",
    seed: int = 0,
    regressors: pd.DataFrame | None = None,
    memo: dict | None = None,
    max_series: int | None = EXPENSIVE_MAX_SERIES,
    *,
    final: bool = True,
) -> pd.DataFrame:
    """Fit on all of `history` (unique_id, ds, y; regular periods) and forecast `horizon` periods.

    Long frame: unique_id, ds, model, forecast, demand_class (the routing class of the series).
    `memo`: the family's state from earlier fits of the same run (FitSpec.memo), updated in place.
    `final`: the forecast itself, not a backtest window (cross_validate), so the capped models fit
    only series that the backtest's windows could have fitted (capped_min_points).
    """
    spec = FitSpec(
        horizon=horizon,
        season=season,
        freq=freq,
        n_jobs=n_jobs,
        seed=seed,
        regressors=regressors,
        memo=memo,
        max_series=max_series,
        capped_min_points=capped_min_points(family, horizon, season) if final else 0,
    )
    classes = route_classes(history, season)
    points = history.groupby("unique_id")["y"].size()
    eligible = classes[classes.isin(family.classes) & (points.reindex(classes.index) >= family.min_points)]
    if eligible.empty:
        return _empty_forecast(history)
    long = family.forecaster(history[history["unique_id"].isin(eligible.index)], eligible, spec)
    if long.empty:
        return _empty_forecast(history)
    long["forecast"] = pd.to_numeric(long["forecast"]).fillna(0.0).clip(lower=0.0)
    long["ds"] = pd.to_datetime(long["ds"])
    long["demand_class"] = long["unique_id"].map(classes)
    return long[LONG_COLUMNS].reset_index(drop=True)


def capped_min_points(family: ModelFamily, horizon: int, season: int) -> int:
    """The shortest history of a series that the family fitted in the last backtest window (a horizon
    before the end, past the SHORT class and family.min_points then). In a final fit the capped
    models (Prophet, AutoARIMA) take their top series among these only: their weight sets
    (`<class>+capped`, see ensemble) are learned on the series they forecast in the backtest, and
    an item newer than that gets the weights of the members it has, at a fraction of the cost (a
    new series is searched from scratch). Without this the newest large items would take the cap
    from the series the weights were learned on."""
    return max(season + 1, family.min_points) + horizon


def min_train_periods(horizon: int, season: int) -> int:
    """The shortest history a backtest window is fitted on: a season and a point, and one horizon."""
    return max(season + 1, horizon)


def plan_windows(
    periods: int, horizon: int, season: int, n_windows: int | None = None, step: int | None = None
) -> tuple[int, int]:
    """(windows, step) of the rolling-origin backtest on `periods` periods: the windows end at the
    last period and start `step` apart (default: half a horizon); without `n_windows`, as many as
    leave every window `min_train_periods` of history, at most MAX_BACKTEST_WINDOWS (possibly none)."""
    step = step or max(1, math.ceil(horizon / 2))
    room = periods - horizon - min_train_periods(horizon, season)
    fits = 0 if room < 0 else 1 + room // step
    if n_windows is None:
        return min(MAX_BACKTEST_WINDOWS, fits), step
    if n_windows > fits:
        raise ValueError(
            f"{periods} periods cannot hold {n_windows} backtest windows of {horizon} {step} apart after "
            f"{min_train_periods(horizon, season)} periods of history (at most {fits})"
        )
    return n_windows, step


def backtest_cutoffs(
    history: pd.DataFrame, horizon: int, n_windows: int, step: int | None = None
) -> list[pd.Timestamp]:
    """Rolling origins `step` (default `horizon`) periods apart, the last one `horizon` periods before the end."""
    step = step or horizon
    dates = np.sort(history["ds"].unique())
    if n_windows < 1:
        return []
    if len(dates) <= (n_windows - 1) * step + horizon:
        raise ValueError(f"{len(dates)} periods cannot hold {n_windows} backtest windows of {horizon}")
    return [pd.Timestamp(dates[-1 - horizon - k * step]) for k in range(n_windows - 1, -1, -1)]


def cross_validate(
    history: pd.DataFrame,
    family: ModelFamily,
    horizon: int,
    season: int,
    n_windows: int,
    n_jobs: int = 1,
    freq: str = "D",
    seed: int = 0,
    regressors: pd.DataFrame | None = None,
    memo: dict | None = None,
    max_series: int | None = EXPENSIVE_MAX_SERIES,
    step: int | None = None,
    first_forms: dict | None = None,
    cutoffs: Sequence[pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Rolling-origin forecasts: each window is fitted only on data up to its cutoff (`step` periods
    apart, by default a horizon; or exactly `cutoffs`, oldest first).

    Long frame as fit_predict's, plus cutoff and the actual y (the class is the one at the cutoff).
    The windows run oldest first and share `memo` (a new one if None), so what a family selects on
    the first window's training data is reused by the later windows (and by a final fit given it).
    `first_forms`, if given, receives a copy of `memo` as the first window left it: forms selected
    on data up to its cutoff, which a later backtest may keep (pipeline.carry_forms).
    """
    memo = {} if memo is None else memo
    windows = []
    for cutoff in backtest_cutoffs(history, horizon, n_windows, step) if cutoffs is None else cutoffs:
        train = history[history["ds"] <= cutoff]
        forecast = fit_predict(
            train, family, horizon, season, n_jobs, freq, seed, regressors, memo, max_series, final=False
        )
        if first_forms is not None and not windows:
            first_forms.update(copy.deepcopy(memo))
        actual = history.loc[history["ds"] > cutoff, ["unique_id", "ds", "y"]]
        windows.append(forecast.merge(actual, on=["unique_id", "ds"], how="inner").assign(cutoff=cutoff))
    if not windows:  # no window fits the history: typed frame without rows
        windows = [_empty_forecast(history).assign(cutoff=pd.Series(dtype="datetime64[ns]"), y=pd.Series(dtype=float))]
    return pd.concat(windows, ignore_index=True)[BACKTEST_COLUMNS]
