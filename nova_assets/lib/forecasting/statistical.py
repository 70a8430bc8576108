"""AutoETS and AutoARIMA (statsforecast), with each series' model form searched once per run.

The automatic searches (AutoETS over error/trend/season forms, AutoARIMA stepwise over orders)
cost 6-17x one fit of a given form, and a cycle fits every series three times (two backtest
windows, then all history). So the first fit of a run searches and records the chosen form per
series in `FitSpec.memo` (ETS components such as "AAAN", ARIMA orders with mean/drift), and the
later windows and the final fit re-estimate the parameters of that form on their own data. The
search never sees a scored point: it runs on the first window's training data, which ends before
every window's scored points (the daily cycle's next backtest keeps most of these forms, see
pipeline.carry_forms). A series without a recorded form (new since the first window), or whose form
no longer fits its data (multiplicative errors and a zero, say), is searched again.

AutoARIMA runs only on smooth/erratic series, at most `FitSpec.max_series` of them (those with the
most demand; in the final fit, among those old enough for the backtest: models.capped_min_points),
and with small orders: its full stepwise search costs several times more per daily
series (docs/benchmarks.md), and it is no use on mostly-zero demand. On intermittent
and lumpy series AutoETS searches the non-seasonal forms only (much cheaper; on daily spare-parts
demand the full search chose a non-seasonal form for these classes anyway, and the intermittent
family models them). Both see at most STAT_MAX_SEASONS seasons: on daily data the last half-year
(their cost grows with the length; neither models a yearly cycle at season 7, and the level they
track is a recent one), on weekly and monthly data all of it. On long series (the daily half-year)
AutoARIMA's search compares orders by conditional sum of squares, as R's auto.arima does by default
(css_search); the short monthly series keep the exact search.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from statsforecast.models import ARIMA, AutoARIMA, AutoETS

from nova_assets.lib.forecasting.demand_class import REGULAR
from nova_assets.lib.forecasting.panel import FitSpec, future_dates
from nova_assets.lib.forecasting.parallel import map_chunks

ETS_MODEL = "AutoETS"
# AutoETS estimates no form on fewer points (statsforecast raises "tiny datasets" below 8): shorter
# series are left to the other families (ModelFamily.min_points).
MIN_POINTS = 8
ARIMA_MODEL = "AutoARIMA"
STAT_MAX_SEASONS = 26
ARIMA_ORDERS = {"max_p": 2, "max_q": 2, "max_P": 1, "max_Q": 1, "nmodels": 15}
# Above these, AutoARIMA's search compares orders by conditional sum of squares and fits only the
# chosen one by maximum likelihood: R auto.arima's default rule (length > 150 or frequency > 12).
CSS_SEARCH_MIN_POINTS = 150
CSS_SEARCH_MIN_SEASON = 12

EtsForm = str  # components: error, trend, season, N|D (damped), e.g. "AAAN"
MEAN_FORM = "mean"  # recorded when not even simple exponential smoothing could be estimated
ArimaForm = tuple[int, int, int, int, int, int, bool, bool]  # p, d, q, P, D, Q, mean, drift


@dataclass(frozen=True)
class _Task:
    uid: object
    y: np.ndarray
    arima: bool  # smooth/erratic within the cap: AutoARIMA too
    seasonal: bool  # smooth/erratic: ETS searches the seasonal forms too
    ets_form: EtsForm | None
    arima_form: ArimaForm | None


@dataclass(frozen=True)
class _Fit:
    uid: object
    ets: np.ndarray
    ets_form: EtsForm
    arima: np.ndarray | None
    arima_form: ArimaForm | None


def forecast(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
    """Long frame: AutoETS for every series, AutoARIMA for the smooth/erratic ones."""
    memo = spec.memo if spec.memo is not None else {}
    ets_forms, arima_forms = memo.setdefault("ets", {}), memo.setdefault("arima", {})
    recent = history.groupby("unique_id", sort=True).tail(STAT_MAX_SEASONS * spec.season)
    regular = history[history["unique_id"].isin(classes.index[classes.isin(REGULAR)])]
    arima = spec.top_series(regular)
    tasks = [
        _Task(
            uid,
            group["y"].to_numpy(float),
            uid in arima,
            classes.get(uid) in REGULAR,
            ets_forms.get(uid),
            arima_forms.get(uid),
        )
        for uid, group in recent.groupby("unique_id", sort=True)
    ]
    settings = replace(spec, memo=None, regressors=None)  # what the workers need, without the parent's state
    fits = [fit for part in map_chunks(_fit_many, tasks, settings, spec.n_jobs) for fit in part]
    rows: list[tuple[object, str, np.ndarray]] = []  # (series, model, forecast), one frame built from all
    for fit in fits:
        ets_forms[fit.uid] = fit.ets_form
        rows.append((fit.uid, ETS_MODEL, fit.ets))
        if fit.arima is not None:
            arima_forms[fit.uid] = fit.arima_form
            rows.append((fit.uid, ARIMA_MODEL, fit.arima))
    dates = future_dates(recent["ds"].max(), spec.horizon, spec.freq)
    uids, models, forecasts = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(uids), len(dates)),
            "ds": np.tile(dates.to_numpy(), len(rows)),
            "model": np.repeat(np.asarray(models, dtype=object), len(dates)),
            "forecast": np.concatenate(forecasts),
        }
    )


def _fit_many(tasks: list[_Task], spec: FitSpec) -> list[_Fit]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter of the ARIMA/ETS fits
        return [_fit(task, spec) for task in tasks]


def _fit(task: _Task, spec: FitSpec) -> _Fit:
    ets, ets_form = _ets(task.y, spec, task.ets_form, "ZZZ" if task.seasonal else "ZZN")
    arima, arima_form = _arima(task.y, spec, task.arima_form) if task.arima else (None, None)
    return _Fit(task.uid, ets, ets_form, arima, arima_form)


def _ets(y: np.ndarray, spec: FitSpec, form: EtsForm | None, search: str) -> tuple[np.ndarray, EtsForm]:
    if form is not None and form != MEAN_FORM:
        try:
            model = AutoETS(season_length=spec.season, model=form[:3], damped=form[3] == "D")
            return model.forecast(y=y, h=spec.horizon)["mean"], form
        except Exception:  # the form does not fit the new data (e.g. multiplicative and a zero): search again
            pass
    for candidates in (search, "ANN"):  # the plain level model when no form of the search can be estimated
        try:
            model = AutoETS(season_length=spec.season, model=candidates).fit(y)
            return model.predict(spec.horizon)["mean"], str(model.model_["components"])
        except Exception:
            continue
    return np.full(spec.horizon, float(np.mean(y))), MEAN_FORM


def css_search(points: int, season: int) -> bool:
    """Whether AutoARIMA's search approximates the likelihood (long or finely seasonal series): on the
    cycle's daily series it costs about half, with the same holdout error (docs/forecasting.md)."""
    return points > CSS_SEARCH_MIN_POINTS or season > CSS_SEARCH_MIN_SEASON


def _arima(y: np.ndarray, spec: FitSpec, form: ArimaForm | None) -> tuple[np.ndarray | None, ArimaForm | None]:
    """AutoARIMA's forecast and form; (None, None) when no order can be estimated (the series then has
    no AutoARIMA row and the ensemble spreads its weight over the other members)."""
    if form is not None:
        p, d, q, sp, sd, sq, mean, drift = form
        try:
            model = ARIMA(
                order=(p, d, q),
                seasonal_order=(sp, sd, sq),
                season_length=spec.season,
                include_mean=mean,
                include_drift=drift,
            )
            return model.forecast(y=y, h=spec.horizon)["mean"], form
        except Exception:  # not estimable on the new data: search again
            pass
    try:
        model = AutoARIMA(season_length=spec.season, approximation=css_search(len(y), spec.season), **ARIMA_ORDERS)
        model = model.fit(y)
    except Exception:
        return None, None
    p, q, sp, sq, _, d, sd = (int(v) for v in model.model_["arma"])
    coef = model.model_["coef"]
    return model.predict(spec.horizon)["mean"], (p, d, q, sp, sd, sq, "intercept" in coef, "drift" in coef)
