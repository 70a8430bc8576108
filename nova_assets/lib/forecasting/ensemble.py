"""Ensemble weights learned from the rolling-origin backtest, per demand class.

Objective: the weights (w >= 0, sum(w) = 1) minimise what the backtest reports,

    J(w) = MASE(w) / MASE* + RMSSE(w) / RMSSE* + |aggregate bias(w)|

with MASE* and RMSSE* the best single member's values on the same windows. Both error measures
count equally (the ratios make them commensurable), so the combination does not buy RMSSE with a
forecast that MASE punishes, or the reverse; the bias term keeps total demand honest. J is convex
in w; SLSQP solves it from several starts (the dimension is the number of members).

Guarding against a combination that only looks good in-sample: the choice between "learned
combination" and "best single model" is made out of sample, by cross-fitting over the backtest
windows (learn on the other cutoffs, score on this one; on the other half of the series when there
is one cutoff). The combination is kept only if it beats the best single model there; otherwise the
best single model (by J on all windows) gets weight 1. (The optimum itself may be a single model:
the report's `choice` says which it is.) Either way the in-sample J of the final
weights is never above the best single model's. Classes with too few windows borrow the windows of
the other modelled classes; SHORT and NO_DEMAND series get the seasonal naive baseline.

Capped members: the per-series models that cost most (Prophet, AutoARIMA) run only on the top
series by volume (models.EXPENSIVE_MAX_SERIES). Each class then gets two weight sets: one over
the members that forecast all its series, learned on all of them, and `<class>+capped` over those
plus the capped models, learned on the windows where all of them forecast, kept only if it weights
a capped model. combine() gives a row the capped set when all its weighted members are there, else
the class set: a series outside the cap gets weights learned for the members it has, not the
capped set renormalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from nova_assets.lib.forecasting.backtest import WINDOW, window_scales
from nova_assets.lib.forecasting.demand_class import MODELLED, DemandClass
from nova_assets.lib.forecasting.models import NAIVE_MODEL, ZERO_MODEL

ENSEMBLE_MODEL = "Ensemble"
MIN_CLASS_WINDOWS = 30  # fewer (series x cutoff) windows than this: learn on all modelled classes
CAPPED_SUFFIX = "+capped"  # weight set of a class's series that the capped models (top by volume) also forecast


@dataclass(frozen=True)
class LearnedWeights:
    """Weights per demand class plus how they were chosen (logged beside the forecast)."""

    by_class: dict[str, dict[str, float]]
    report: pd.DataFrame  # per class: windows, choice, members, objective and scores of ensemble and best model

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"demand_class": c, "model": m, "weight": w}
                for c, weights in self.by_class.items()
                for m, w in weights.items()
            ]
        )


@dataclass(frozen=True)
class _Windows:
    """Backtest rows of a set of windows with each row's share of its window's MASE and RMSSE."""

    x: np.ndarray  # (rows, members) forecasts
    y: np.ndarray  # (rows,) actuals
    window: np.ndarray  # (rows,) window number
    mae_weight: np.ndarray  # (rows,) 1 / (seasonal MAE scale x window length); 0 if undefined
    sq_weight: np.ndarray  # (rows,) 1 / (M5 scale x window length); 0 if undefined
    n_mase: int  # windows where MASE is defined
    rmsse_defined: np.ndarray  # (windows,) bool

    def subset(self, rows: np.ndarray) -> _Windows:
        window = np.unique(self.window[rows], return_inverse=True)[1]
        defined = np.zeros(window.max() + 1, dtype=bool) if len(window) else np.zeros(0, dtype=bool)
        np.logical_or.at(defined, window, self.sq_weight[rows] > 0)
        with_mase = np.unique(window[self.mae_weight[rows] > 0]).size
        return _Windows(
            self.x[rows], self.y[rows], window, self.mae_weight[rows], self.sq_weight[rows], with_mase, defined
        )

    def scores(self, w: np.ndarray) -> tuple[float, float, float]:
        """MASE, RMSSE (means over the windows where defined) and aggregate bias of forecast x @ w."""
        r = self.x @ w - self.y
        n = len(self.rmsse_defined)
        mase = np.bincount(self.window, np.abs(r) * self.mae_weight, n).sum() / max(self.n_mase, 1)
        per_window = np.sqrt(np.bincount(self.window, r**2 * self.sq_weight, n))
        rmsse = per_window[self.rmsse_defined].mean() if self.rmsse_defined.any() else 0.0
        total = self.y.sum()
        return float(mase), float(rmsse), float(r.sum() / total) if total > 0 else 0.0

    def objective(self, w: np.ndarray, reference: tuple[float, float]) -> tuple[float, np.ndarray]:
        """J(w) and its (sub)gradient."""
        r = self.x @ w - self.y
        n = len(self.rmsse_defined)
        per_window = np.sqrt(np.bincount(self.window, r**2 * self.sq_weight, n))
        mase = np.bincount(self.window, np.abs(r) * self.mae_weight, n).sum() / max(self.n_mase, 1)
        rmsse = per_window[self.rmsse_defined].mean() if self.rmsse_defined.any() else 0.0
        total = self.y.sum()
        bias = r.sum() / total if total > 0 else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            inverse = np.where(per_window > 0, 1.0 / per_window, 0.0)[self.window]
        grad_mase = self.x.T @ (np.sign(r) * self.mae_weight) / max(self.n_mase, 1)
        grad_rmsse = self.x.T @ (r * self.sq_weight * inverse) / max(self.rmsse_defined.sum(), 1)
        grad_bias = np.sign(bias) * self.x.sum(axis=0) / total if total > 0 else np.zeros_like(w)
        value = mase / reference[0] + rmsse / reference[1] + abs(bias)
        return float(value), grad_mase / reference[0] + grad_rmsse / reference[1] + grad_bias


def learn_weights(backtest: pd.DataFrame, history: pd.DataFrame, season: int) -> LearnedWeights:
    """Per-class weights from a backtest with every family's rows (unique_id, ds, cutoff, y, model,
    forecast, demand_class); `history` provides each window's scales (data up to its cutoff only)."""
    scales = window_scales(backtest, history, season)
    by_class: dict[str, dict[str, float]] = {
        str(DemandClass.SHORT): {NAIVE_MODEL: 1.0},
        str(DemandClass.NO_DEMAND): {NAIVE_MODEL: 1.0},
    }
    modelled = backtest[backtest["demand_class"].isin(MODELLED)]
    reports = []
    for cls in sorted(MODELLED):
        rows = modelled[modelled["demand_class"] == cls]
        members = _complete_members(rows)
        capped = _capped_members(rows, members)
        covered = _windows_with(rows, capped)
        if rows[WINDOW].drop_duplicates().shape[0] < MIN_CLASS_WINDOWS:
            rows = modelled
        learned = _learn(rows, members, scales)
        by_class[cls] = learned[0] if learned else {NAIVE_MODEL: 1.0}
        if learned:
            reports.append({"demand_class": cls, **learned[1]})
        if capped and covered[WINDOW].drop_duplicates().shape[0] >= MIN_CLASS_WINDOWS:
            learned = _learn(covered, [*members, *capped], scales)
            if learned and set(learned[0]) & set(capped):  # else the class's own set serves these rows
                by_class[cls + CAPPED_SUFFIX] = learned[0]
                reports.append({"demand_class": cls + CAPPED_SUFFIX, **learned[1]})
    return LearnedWeights(by_class=by_class, report=pd.DataFrame(reports))


def _learn(rows: pd.DataFrame, members: list[str], scales: pd.DataFrame) -> tuple[dict[str, float], dict] | None:
    """Weights of `members` learned on the windows of `rows` where all of them forecast."""
    pivot = rows.pivot_table(index=[*WINDOW, "ds"], columns="model", values="forecast")
    pivot = pivot[[m for m in members if m in pivot.columns]].dropna()
    if pivot.empty:
        return None
    actual = rows.drop_duplicates([*WINDOW, "ds"]).set_index([*WINDOW, "ds"])["y"].reindex(pivot.index)
    return _choose(list(pivot.columns), _assemble(pivot, actual, scales), _folds(pivot))


def combine(predictions: pd.DataFrame, weights: LearnedWeights, keys: list[str]) -> pd.DataFrame:
    """Weighted sum of the members per row (`keys`), with the weights of the row's demand class.

    A row where every member of its class's capped weight set (`<class>+capped`) forecasts takes
    that set. A member missing for a row (a family that failed on a series) has its weight spread
    over the others; a row with no member at all takes the seasonal naive forecast.
    """
    table = weights.table().rename(columns={"demand_class": "weight_set"})
    frame = predictions.assign(weight_set=_weight_sets(predictions, weights, keys))
    frame = frame.merge(table, on=["weight_set", "model"], how="left")
    frame["weight"] = frame["weight"].fillna(0.0)
    frame["weighted"] = frame["forecast"] * frame["weight"]
    extra = [c for c in ("y", "demand_class") if c in predictions.columns]
    grouped = frame.groupby(keys, as_index=False, sort=False)
    combined = grouped.agg(weighted=("weighted", "sum"), weight=("weight", "sum"), **{c: (c, "first") for c in extra})
    naive = predictions[predictions["model"] == NAIVE_MODEL].set_index(keys)["forecast"]
    fallback = naive.reindex(pd.MultiIndex.from_frame(combined[keys])).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        combined["forecast"] = np.where(combined["weight"] > 0, combined["weighted"] / combined["weight"], fallback)
    return combined.drop(columns=["weighted", "weight"]).assign(model=ENSEMBLE_MODEL)


def _weight_sets(predictions: pd.DataFrame, weights: LearnedWeights, keys: list[str]) -> np.ndarray:
    """Per row: its class's capped weight set if all of that set's members forecast the row, else its class."""
    sets = predictions["demand_class"].to_numpy(dtype=object).copy()
    for name, members in weights.by_class.items():
        if not name.endswith(CAPPED_SUFFIX):
            continue
        cls = name.removesuffix(CAPPED_SUFFIX)
        rows = predictions[(predictions["demand_class"] == cls) & predictions["model"].isin(members)]
        present = rows.groupby(keys, sort=False)["model"].nunique()
        complete = present[present == len(members)].index
        in_set = pd.MultiIndex.from_frame(predictions[keys]).isin(complete)
        sets[in_set & (predictions["demand_class"] == cls).to_numpy()] = name
    return sets


def _capped_members(rows: pd.DataFrame, complete: list[str]) -> list[str]:
    """Models that forecast some windows of the class but not all (capped to the top series by volume)."""
    counts = rows.drop_duplicates([*WINDOW, "model"]).groupby("model").size()
    return sorted(m for m, n in counts.items() if m not in complete and m != ZERO_MODEL and n >= MIN_CLASS_WINDOWS)


def _windows_with(rows: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """The rows of the windows where every one of `models` forecasts."""
    if not models:
        return rows.iloc[:0]
    present = rows[rows["model"].isin(models)].drop_duplicates([*WINDOW, "model"]).groupby(WINDOW).size()
    full = present[present == len(models)].index
    return rows[pd.MultiIndex.from_frame(rows[WINDOW]).isin(full)]


def _assemble(pivot: pd.DataFrame, actual: pd.Series, scales: pd.DataFrame) -> _Windows:
    keys = pivot.index.droplevel("ds")
    window = pd.factorize(keys)[0]
    per_row = scales.reindex(keys)
    length = np.bincount(window)[window]
    with np.errstate(invalid="ignore", divide="ignore"):
        mae_weight = np.nan_to_num(1.0 / (per_row["mae_scale"].to_numpy() * length), posinf=0.0)
        sq_weight = np.nan_to_num(1.0 / (per_row["sq_scale"].to_numpy() * length), posinf=0.0)
    rows = _Windows(
        pivot.to_numpy(float), actual.to_numpy(float), window, mae_weight, sq_weight, 0, np.zeros(0, dtype=bool)
    )
    return rows.subset(np.arange(len(window)))


def _complete_members(rows: pd.DataFrame) -> list[str]:
    """Models with a forecast for every window of the class (a family routed away from it has none)."""
    counts = rows.drop_duplicates([*WINDOW, "model"]).groupby("model").size()
    n_windows = len(rows[WINDOW].drop_duplicates())
    return sorted(m for m, n in counts.items() if n == n_windows and m != ZERO_MODEL)


def _reference(windows: _Windows, k: int) -> tuple[float, float]:
    """Best single member's MASE and RMSSE: the units of J."""
    scores = [windows.scores(np.eye(k)[i]) for i in range(k)]
    return max(min(s[0] for s in scores), 1e-9), max(min(s[1] for s in scores), 1e-9)


def _solve(windows: _Windows) -> np.ndarray:
    """Minimise J on the simplex, from equal weights and from every vertex; keep the best."""
    k = windows.x.shape[1]
    reference = _reference(windows, k)
    starts = [np.full(k, 1.0 / k), *np.eye(k)]
    best, best_value = starts[0], np.inf
    for start in starts:
        result = minimize(
            lambda w: windows.objective(w, reference),
            start,
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * k,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
            options={"maxiter": 200, "ftol": 1e-10},
        )
        w = np.where(result.x > 1e-4, result.x, 0.0)  # drop numerical dust, then renormalise
        w = w / w.sum() if w.sum() > 0 else start
        value = windows.objective(w, reference)[0]
        if value < best_value:
            best, best_value = w, value
    return best


def _best_single(windows: _Windows, k: int) -> int:
    reference = _reference(windows, k)
    return int(np.argmin([windows.objective(np.eye(k)[i], reference)[0] for i in range(k)]))


def _folds(pivot: pd.DataFrame) -> list[np.ndarray]:
    """Held-out rows of each fold: one per cutoff, or two halves of the series with a single cutoff."""
    cutoffs = pivot.index.get_level_values("cutoff")
    if cutoffs.nunique() >= 2:
        return [np.flatnonzero(cutoffs == c) for c in cutoffs.unique()]
    ids = pivot.index.get_level_values("unique_id")
    first = np.asarray(ids.isin(set(ids.unique()[::2])))
    return [np.flatnonzero(first), np.flatnonzero(~first)]


def _choose(members: list[str], windows: _Windows, folds: list[np.ndarray]) -> tuple[dict[str, float], dict]:
    k = len(members)
    identity = np.eye(k)
    cv_combination = cv_single = 0.0
    for held_out in folds:
        train = windows.subset(np.setdiff1d(np.arange(len(windows.y)), held_out))
        test = windows.subset(held_out)
        if not len(train.y) or not len(test.y):
            continue
        reference = _reference(test, k)
        cv_combination += test.objective(_solve(train), reference)[0] * len(test.y)
        cv_single += test.objective(identity[_best_single(train, k)], reference)[0] * len(test.y)
    reference = _reference(windows, k)
    best = _best_single(windows, k)
    weights = _solve(windows)
    if (
        cv_combination > cv_single
        or windows.objective(weights, reference)[0] > windows.objective(identity[best], reference)[0]
    ):
        weights = identity[best]
    choice = "combination" if np.count_nonzero(weights) > 1 else "single"
    ensemble, single = windows.scores(weights), windows.scores(identity[best])
    report = {
        "n_windows": len(windows.rmsse_defined),
        "choice": choice,
        "members": ",".join(members),
        "best_model": members[best],
        "objective_ensemble": windows.objective(weights, reference)[0],
        "objective_best_model": windows.objective(identity[best], reference)[0],
        "cv_objective_ensemble": cv_combination / len(windows.y),
        "cv_objective_best_model": cv_single / len(windows.y),
        "mase_ensemble": ensemble[0],
        "rmsse_ensemble": ensemble[1],
        "bias_ensemble": ensemble[2],
        "mase_best_model": single[0],
        "rmsse_best_model": single[1],
        "bias_best_model": single[2],
    }
    return {m: float(w) for m, w in zip(members, weights, strict=True) if w > 0}, report
