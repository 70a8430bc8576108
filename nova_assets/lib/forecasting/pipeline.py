"""The forecast stage as two steps shared by the Dagster assets and the `nova` commands:
run each family (rolling-origin backtest + fit on all history), then learn the ensemble from the
backtests and derive the quantiles inventory needs.

The backtest costs three fits of every family for one final fit. The daily cycle therefore makes a
backtest only every `every_days` days (demand_history.backtest_through), the way production systems
re-evaluate their models periodically while refitting daily: in between, a family reuses its stored
backtest (StoredBacktest) whole. A new backtest fits only the windows the stored one does not hold:
the cycle's windows are `window_step` apart, which with the default cadence (NOVA_BACKTEST_EVERY_DAYS)
is the cadence, so they slide by one and a backtest fits one window and keeps the others. And it
starts from the model forms the last one selected (carry_forms), re-searching a rotating share of the
series each time."""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from nova_assets.lib.demand_history import BACKTEST_EPOCH
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL, LearnedWeights, combine, fallbacks, learn_weights
from nova_assets.lib.forecasting.metrics import SeriesScales, score_windows, summarise
from nova_assets.lib.forecasting.models import (
    BACKTEST_COLUMNS,
    EXPENSIVE_MAX_SERIES,
    FAMILIES,
    ModelFamily,
    backtest_cutoffs,
    cross_validate,
    fit_predict,
    plan_windows,
)
from nova_assets.lib.forecasting.panel import SeriesCodes
from nova_assets.lib.forecasting.parallel import beside
from nova_assets.lib.forecasting.quantiles import QUANTILES, SeriesSpread, fit_error_quantiles, forecast_quantiles

REQUIRED_FAMILY = "baseline"  # covers every series: the fallback of short and all-zero ones

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FamilyRun:
    """One family's backtest and forecast (the rows carry a `family` column)."""

    family: str
    backtest: pd.DataFrame
    forecast: pd.DataFrame
    seconds: float
    memo: dict  # what the family selected on the first window (FitSpec.memo): logged with its MLflow model
    backtest_reused: bool = False  # the whole backtest of an earlier cycle (StoredBacktest)
    forms: dict = field(default_factory=dict)  # memo as the first fitted window left it: what the next may keep
    forms_through: date | None = None  # the cutoff of that window: the forms saw no data after it
    windows_fitted: int = 0  # backtest windows fitted by this run (the others kept from the stored backtest)


@dataclass(frozen=True)
class StoredBacktest:
    """A family's backtest from an earlier cycle made with the same settings (backtest_key), and the
    model forms it selected: run_family keeps it whole when it ends on the cycle's backtest day
    (`through`), else the windows of it the new backtest needs."""

    backtest: pd.DataFrame
    memo: dict
    forms: dict = field(default_factory=dict)  # FamilyRun.forms, with carry_forms applied when the day changed
    forms_through: date | None = None  # FamilyRun.forms_through
    through: date | None = None  # the day its windows end; None: the cycle's backtest day


def backtest_key(
    through: date, horizon: int, season: int, freq: str, max_series: int | None, step: int | None = None
) -> dict:
    """What a stored backtest must have been made with to be reused (JSON-ready)."""
    return {
        "through": str(through),
        "horizon": horizon,
        "season": season,
        "freq": freq,
        "max_series": max_series,
        "step": step,
    }


def window_step(horizon: int, every_days: int) -> int:
    """The daily cycle's window step: about half a horizon (models.plan_windows), rounded to a whole
    number of backtest periods, so that with a cadence near half a horizon (the default 14 days for the
    30-day horizon) the step is the cadence and each backtest's windows are the last one's slid by one."""
    return every_days * max(1, round(math.ceil(horizon / 2) / every_days))


FORM_REFRESH_BACKTESTS = 4  # a kept model form is searched again at least every this many backtests


def continues(made_with: dict, key: dict) -> bool:
    """Whether a stored backtest made with `made_with` (backtest_key) can serve the backtest of `key`:
    the same settings, and a backtest day not after the key's (kept whole on the same day, in part on
    a later one, see run_family)."""
    return {**made_with, "through": key["through"]} == key and made_with["through"] <= key["through"]


def carry_forms(forms: dict, through: date, every_days: int) -> dict:
    """The model forms (FamilyRun.forms) of an earlier backtest that the backtest ending on `through`
    keeps instead of searching them again: all but a rotating 1/FORM_REFRESH_BACKTESTS of the series,
    which are searched afresh (so no form is older than that many backtests). The search is most of a
    statistical backtest's cost (statistical); run_family uses the kept forms only when they saw no
    data after the first window it fits (StoredBacktest.forms_through)."""
    turn = (through - BACKTEST_EPOCH).days // every_days % FORM_REFRESH_BACKTESTS

    def kept(uid: object) -> bool:
        # blake2b, not the material groups' crc32: a share picked by the same hash would be one whole group
        digest = hashlib.blake2b(str(uid).encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big") % FORM_REFRESH_BACKTESTS != turn

    return {kind: {uid: form for uid, form in by_series.items() if kept(uid)} for kind, by_series in forms.items()}


@dataclass(frozen=True)
class EnsembleRun:
    """The learned ensemble beside its members."""

    weights: LearnedWeights
    ensemble_backtest: pd.DataFrame  # the ensemble's backtest rows (the members' are the input)
    forecast: pd.DataFrame  # rows of every member plus ENSEMBLE_MODEL
    performance: pd.DataFrame  # backtest scores per model (the ensemble's with in-sample weights)
    quantiles: pd.DataFrame  # per series and period: p50/p90/p95 and cumulative cum_p50/... (forecast_quantiles)
    fallbacks: pd.DataFrame  # per series: unique_id, demand_class, fallback ("" if its class's combination)


def select_families(names: Sequence[str] | None) -> list[ModelFamily]:
    """The requested families (all by default), always with the baseline that every fallback needs."""
    chosen = list(FAMILIES) if not names else list(dict.fromkeys([REQUIRED_FAMILY, *names]))
    unknown = [n for n in chosen if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown model families {unknown}; choose from {sorted(FAMILIES)}")
    return [FAMILIES[n] for n in chosen]


def run_family(
    history: pd.DataFrame,
    family: ModelFamily,
    horizon: int,
    season: int,
    n_windows: int | None = None,
    n_jobs: int = 2,
    freq: str = "D",
    seed: int = 0,
    max_series: int | None = EXPENSIVE_MAX_SERIES,
    through: date | None = None,
    stored: StoredBacktest | None = None,
    step: int | None = None,
) -> FamilyRun:
    """Backtest on `n_windows` rolling origins `step` apart (default: as many as the history allows, half a
    horizon apart, see models.plan_windows) of the history up to `through` (default: all of it), then
    fit on all history and forecast `horizon` periods.

    With `stored` ending on `through`, its backtest is reused whole; ending earlier, its windows with
    the new backtest's cutoffs are kept (their actuals refreshed from the history) and only the others
    fitted, starting from its model forms when they saw no data after the first window to fit. A stored
    backtest of other models than the forecast's (the family changed since) is made again whole.

    The final fit reuses what the family selected on the first window (model forms, see statistical)."""
    started = time.monotonic()
    if history.empty:  # a material group without materials: typed frames without rows
        forecast = fit_predict(history, family, horizon, season, freq=freq)
        backtest = forecast.assign(cutoff=forecast["ds"], y=forecast["forecast"])[BACKTEST_COLUMNS]
        return FamilyRun(family.name, backtest.assign(family=family.name), forecast.assign(family=family.name), 0.0, {})

    def final(memo: dict) -> pd.DataFrame:
        return fit_predict(
            history, family, horizon, season, n_jobs=n_jobs, freq=freq, seed=seed, memo=memo, max_series=max_series
        )

    def done(backtest: pd.DataFrame, forecast: pd.DataFrame, memo: dict, **run: object) -> FamilyRun:
        named = {"family": family.name}
        elapsed = time.monotonic() - started
        return FamilyRun(family.name, backtest.assign(**named), forecast.assign(**named), elapsed, memo, **run)

    if stored is not None and stored.through in (None, through):  # the cycle's own backtest: kept whole
        memo = copy.deepcopy(stored.memo)
        forecast = final(memo)
        if set(forecast["model"]) == set(stored.backtest["model"]):
            backtest = stored.backtest[BACKTEST_COLUMNS]
            return done(
                backtest, forecast, memo, backtest_reused=True, forms=stored.forms, forms_through=stored.forms_through
            )
        stored = None  # the family's models changed since (a new release): backtest again

    train = history if through is None else history[history["ds"] <= pd.Timestamp(through)]
    planned, step = plan_windows(train["ds"].nunique(), horizon, season, n_windows, step)
    cutoffs = backtest_cutoffs(train, horizon, planned, step)

    def fit_windows(stored: StoredBacktest | None) -> tuple[_Windows, pd.DataFrame]:
        windows = _windows(train, cutoffs, stored, family, horizon, season, n_jobs, freq, seed, max_series)
        return windows, final(windows.memo)

    windows, forecast = fit_windows(stored)
    if not windows.kept.empty and set(windows.kept["model"]) != set(forecast["model"]):
        windows, forecast = fit_windows(None)  # the family's models changed since (a new release): all again
    return done(
        windows.backtest,
        forecast,
        windows.memo,
        forms=windows.forms,
        forms_through=windows.forms_through,
        windows_fitted=windows.fitted,
    )


@dataclass(frozen=True)
class _Windows:
    backtest: pd.DataFrame  # every window of the backtest, kept or fitted
    kept: pd.DataFrame  # the windows kept from the stored backtest
    memo: dict  # as the fitted windows left it, for the final fit
    forms: dict
    forms_through: date | None
    fitted: int


def _windows(
    train: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    stored: StoredBacktest | None,
    family: ModelFamily,
    horizon: int,
    season: int,
    n_jobs: int,
    freq: str,
    seed: int,
    max_series: int | None,
) -> _Windows:
    """The backtest windows at `cutoffs`: those of `stored` kept (actuals from `train`), the others
    fitted, from the stored model forms when these saw no data after the first cutoff to fit."""
    if stored is None:
        kept = pd.DataFrame(columns=BACKTEST_COLUMNS)
    else:
        kept = stored.backtest[stored.backtest["cutoff"].isin(cutoffs)]
    held = set(kept["cutoff"])
    missing = [c for c in cutoffs if c not in held]
    safe = stored is not None and stored.forms_through is not None and missing
    memo = copy.deepcopy(stored.forms) if safe and missing[0].date() >= stored.forms_through else {}
    first: dict = {}
    fitted = cross_validate(
        train,
        family,
        horizon,
        season,
        len(missing),
        n_jobs=n_jobs,
        freq=freq,
        seed=seed,
        memo=memo,
        max_series=max_series,
        first_forms=first,
        cutoffs=missing,
    )
    if not kept.empty:  # the kept windows' actuals as the history has them now
        kept = kept.drop(columns="y").merge(train[["unique_id", "ds", "y"]], on=["unique_id", "ds"])[BACKTEST_COLUMNS]
        fitted = pd.concat([kept, fitted], ignore_index=True).sort_values("cutoff", kind="stable", ignore_index=True)
    if missing:
        forms, forms_through = first, missing[0].date()
    else:
        forms, forms_through = (stored.forms, stored.forms_through) if stored is not None else ({}, None)
    return _Windows(fitted, kept, memo, forms, forms_through, len(missing))


def build_ensemble(
    history: pd.DataFrame,
    backtests: pd.DataFrame,
    forecasts: pd.DataFrame,
    season: int,
    quantiles: Sequence[float] = QUANTILES,
) -> EnsembleRun:
    """Learn per-class weights on the backtests, combine, score every model and derive quantiles.

    The series are coded once (SeriesCodes), and the history's scales and spreads built once, for all
    of these steps."""
    codes, (coded_history, coded_backtests, coded_forecasts) = SeriesCodes.coding(history, backtests, forecasts)
    scales, spread = SeriesScales.build(coded_history, season), SeriesSpread.build(coded_history)
    weights = learn_weights(coded_backtests, coded_history, season, scales)
    ensemble_backtest = combine(coded_backtests, weights, ["unique_id", "ds", "cutoff"]).assign(family="ensemble")
    ensemble_forecast = combine(coded_forecasts, weights, ["unique_id", "ds"]).assign(family="ensemble")
    # scored apart: the ensemble's windows are other windows than the members', in the same order as scored together
    scored = [score_windows(coded_history, b, season, scales) for b in (coded_backtests, ensemble_backtest)]
    performance = summarise(pd.concat(scored, ignore_index=True), ["model"])
    last = backtests.drop_duplicates("model", keep="last")
    family_of = dict(zip(last["model"], last["family"], strict=True)) | {ENSEMBLE_MODEL: "ensemble"}
    performance.insert(1, "family", performance["model"].map(family_of))
    errors = fit_error_quantiles(ensemble_backtest, coded_history, quantiles, spread)
    return EnsembleRun(
        weights=weights,
        ensemble_backtest=codes.decode(ensemble_backtest),
        forecast=pd.concat([forecasts, codes.decode(ensemble_forecast)], ignore_index=True),
        performance=performance,
        quantiles=codes.decode(forecast_quantiles(coded_history, ensemble_forecast, errors, spread)),
        fallbacks=codes.decode(fallbacks(coded_forecasts, weights)),
    )


def run_forecast(
    history: pd.DataFrame,
    families: Sequence[ModelFamily],
    horizon: int,
    season: int,
    n_windows: int | None = None,
    n_jobs: int = 2,
    freq: str = "D",
    seed: int = 0,
    progress: Progress = print,
    max_series: int | None = EXPENSIVE_MAX_SERIES,
) -> tuple[list[FamilyRun], EnsembleRun]:
    """The whole stage (what the assets do one family per asset): the families one after the other,
    those that keep a single core busy (ModelFamily.single_core) in a process beside them when
    `n_jobs` > 1, as the cycle's executor runs the LSTM's step beside others. The forecasts are the
    same either way (tests/unit/test_forecast_processes.py)."""
    windows, step = plan_windows(history["ds"].nunique(), horizon, season, n_windows)
    settings = {"n_windows": n_windows, "n_jobs": n_jobs, "freq": freq, "seed": seed, "max_series": max_series}
    fit = functools.partial(run_family, horizon=horizon, season=season, **settings)
    numbered = list(enumerate(families, start=1))
    aside = [(i, f) for i, f in numbered if f.single_core and n_jobs > 1]
    inline = [(i, f) for i, f in numbered if (i, f) not in aside]

    def started(i: int, family: ModelFamily, where: str = "") -> None:
        progress(f"[{i}/{len(families)}] {family.name}: {windows} backtest windows {step} apart + final fit{where} ...")

    def done(i: int, run: FamilyRun) -> FamilyRun:
        series = run.forecast["unique_id"].nunique()  # those it fits (its classes; the cap of the costly ones)
        progress(f"[{i}/{len(families)}] {run.family}: done in {run.seconds:.1f} s, {series:,} series forecast")
        return run

    by_number: dict[int, FamilyRun] = {}
    with beside(_run_families, fit, history, [f for _, f in aside]) if aside else contextlib.nullcontext() as later:
        for i, family in aside:
            started(i, family, ", in a process of its own beside the others")
        for i, family in inline:
            started(i, family)
            by_number[i] = done(i, fit(history, family))
        for (i, _), run in zip(aside, later.result() if later else [], strict=True):
            by_number[i] = done(i, run)
    runs = [by_number[i] for i, _ in numbered]  # in the families' order, as the ensemble has always seen them
    progress("ensemble: learning weights and quantiles ...")
    ensemble = build_ensemble(
        history,
        pd.concat([r.backtest for r in runs], ignore_index=True),
        pd.concat([r.forecast for r in runs], ignore_index=True),
        season,
    )
    return runs, ensemble


def _run_families(fit: Callable[..., FamilyRun], history: pd.DataFrame, families: list[ModelFamily]) -> list[FamilyRun]:
    """`fit` (run_family with the stage's settings) of each of `families`: run_forecast's process beside."""
    return [fit(history, family) for family in families]
