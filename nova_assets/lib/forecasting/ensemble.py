"""Ensemble weights learned from the rolling-origin backtest, per demand class.

Objective: RMSSE (M5), the mean over backtest windows (series x cutoff) of each window's root mean
squared error scaled by the series' own differences. Within a window it is a squared error, the
strictly consistent score for the mean, so the weights (w >= 0, sum(w) = 1) reward the member
combination that forecasts the expected demand; it is convex in w and SLSQP solves it on the
simplex. Aggregate bias is not in the objective: measured on the carparts and AUTO backtests, a
|bias| term moved weights by 5-30 points of noisy per-cutoff bias while the errors differed by a few
per cent (issue 14, cause 1); it is reported beside the weights and watched cycle by cycle instead.

The learned weights must earn their place out of sample. Cross-fitting over the backtest's cutoffs
(learn on the other cutoffs, score on this one; on the other half of the series when there is one
cutoff) scores, on every held-out window:
- the best single member of the training folds,
- the learned weights shrunk toward that member, w = lam * learned + (1 - lam) * best, for each lam
  of SHRINKAGE_GRID (lam = 1 the learned weights alone; lam = 0 would be the member itself).
The lam with the lowest held-out RMSSE is kept, and the combination is used only if its held-out
advantage over the best single member is beyond noise: mean paired difference over the held-out
windows above NOISE_Z standard errors (clustered by series, whose windows are correlated). Otherwise
the best single member (on all windows) gets weight 1, and the report says the learned weights
fell back (`fallback`). The objective is convex in w, so every shrunk combination is at least as
good as the best member on the windows it was learned on; the chosen weights' in-sample RMSSE is
still checked against the member's. The anchor is the best member, not equal weights: measured on
every dev set, shrinking toward equal weights brings in members the learned weights left out, and
where the held-out folds chose it, it lost on the future (docs/forecasting.md). Classes with too few
windows borrow the windows of the other modelled classes; when the table is too short for any
backtest window, nothing is learned and they get UNLEARNED_MEMBER. SHORT series get the seasonal naive
baseline (the mean of a history shorter than a season), NO_DEMAND series the baseline's SilentRate:
the demand that the items as silent a horizon ago went on to have (models.silent_item_rate; no error
of theirs can be scaled, so nothing is learned for them).

Capped members: the per-series models that cost most (Prophet, AutoARIMA) run only on the top
series by volume (models.EXPENSIVE_MAX_SERIES). Each class then gets two weight sets: one over
the members that forecast all its series, learned on all of them, and `<class>+capped` over those
plus the capped models, learned on the windows where all of them forecast, kept only if it weights
a capped model. combine() gives a row the capped set when all its weighted members are there, else
the class set: a series outside the cap gets weights learned for the members it has, not the
capped set renormalised. The final fit gives the capped models only series old enough to have been
fitted in the backtest (models.capped_min_points), so the capped set serves the kind of series it
was learned on, not the newest large items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from nova_assets.lib.forecasting.demand_class import MODELLED, DemandClass
from nova_assets.lib.forecasting.metrics import WINDOW, ScaledWindows, SeriesScales, key_groups, paired_difference
from nova_assets.lib.forecasting.models import AVERAGE_MODEL, NAIVE_MODEL, SILENT_RATE_MODEL, ZERO_MODEL

ENSEMBLE_MODEL = "Ensemble"
MIN_CLASS_WINDOWS = 30  # fewer (series x cutoff) windows than this: learn on all modelled classes
CAPPED_SUFFIX = "+capped"  # weight set of a class's series that the capped models (top by volume) also forecast
SHRINKAGE_GRID = (0.25, 0.5, 0.75, 1.0)  # weight of the learned weights against the best member
NOISE_Z = 2.0  # a combination must beat the best member out of sample by this many standard errors
# Forecasts the learned weights never choose from: the all-zero forecast minimises per-series RMSSE
# on sparse tables by forecasting nothing at all (a bias of -100 %), which is no forecast to plan
# with; SilentRate forecasts only the NO_DEMAND series, whose weights are a rule, not learned.
NOT_WEIGHTED = frozenset({ZERO_MODEL, SILENT_RATE_MODEL})
# A modelled class when the table is too short for any backtest window: nothing can be learned, and
# the historic average is the simple forecast that scores best on every dev set (docs/forecasting.md)
UNLEARNED_MEMBER = AVERAGE_MODEL


@dataclass(frozen=True)
class LearnedWeights:
    """Weights per demand class plus how they were chosen (logged beside the forecast)."""

    by_class: dict[str, dict[str, float]]
    report: pd.DataFrame  # per class: windows, choice, members, shrinkage, held-out advantage, scores

    @cached_property
    def learned_sets(self) -> frozenset[str]:
        """The weight sets learned on backtest windows (the others are rules)."""
        return frozenset() if self.report.empty else frozenset(self.report["demand_class"])

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"demand_class": c, "model": m, "weight": w}
                for c, weights in self.by_class.items()
                for m, w in weights.items()
            ],
            columns=["demand_class", "model", "weight"],
        )


@dataclass(frozen=True)
class _Problem:
    """The backtest rows of one weight set: member forecasts, actuals and the scaled windows."""

    x: np.ndarray  # (rows, members) forecasts
    y: np.ndarray  # (rows,) actuals
    scaled: ScaledWindows
    series: np.ndarray  # (windows,) series code of each window, to cluster the noise estimate

    def subset(self, rows: np.ndarray) -> _Problem:
        kept = np.unique(self.scaled.window[rows])
        return _Problem(self.x[rows], self.y[rows], self.scaled.subset(rows), self.series[kept])

    def window_rmsse(self, w: np.ndarray) -> np.ndarray:
        """(windows,) RMSSE of the forecast x @ w; NaN where undefined."""
        return self.scaled.rmsse(self.x @ w - self.y)

    def objective(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean RMSSE over the defined windows and its (sub)gradient."""
        r = self.x @ w - self.y
        per_window = self.scaled.rmsse(r)
        defined = ~np.isnan(per_window)
        n = max(int(defined.sum()), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            inverse = np.where(defined & (per_window > 0), 1.0 / per_window, 0.0)[self.scaled.window]
        gradient = self.x.T @ (r * self.scaled.sq_weight * inverse) / n
        return float(np.nansum(per_window) / n), gradient

    def value(self, w: np.ndarray) -> float:
        """The objective without its gradient."""
        per_window = self.scaled.rmsse(self.x @ w - self.y)
        return float(np.nansum(per_window) / max(int((~np.isnan(per_window)).sum()), 1))

    def scores(self, w: np.ndarray) -> tuple[float, float, float]:
        """MASE, RMSSE (means over the windows where defined) and aggregate bias of x @ w."""
        r = self.x @ w - self.y
        mase, rmsse = self.scaled.mase(r), self.scaled.rmsse(r)
        total = self.y.sum()
        return _mean(mase), _mean(rmsse), float(r.sum() / total) if total > 0 else 0.0

    @cached_property
    def single_objectives(self) -> np.ndarray:
        """(members,) the objective of each member alone (asked for by every solve and choice on the problem)."""
        return np.array([self.value(e) for e in np.eye(self.x.shape[1])])

    def best_single(self) -> int:
        return int(np.argmin(self.single_objectives))

    def solve(self) -> np.ndarray:
        """The weights on the simplex with the lowest objective, from equal weights and the best vertex
        (a single member: weight 1)."""
        k = self.x.shape[1]
        if k == 1:
            return np.ones(1)
        starts = [np.full(k, 1.0 / k), np.eye(k)[self.best_single()]]
        best, best_value = starts[1], float(self.single_objectives[self.best_single()])
        for start in starts:
            result = minimize(
                self.objective,
                start,
                jac=True,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * k,
                constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
                options={"maxiter": 200, "ftol": 1e-10},
            )
            w = np.where(result.x > 1e-4, result.x, 0.0)  # drop numerical dust, then renormalise
            w = w / w.sum() if w.sum() > 0 else start
            value = self.value(w)
            if value < best_value:
                best, best_value = w, value
        return best


# picks one weight set from its members' windows and folds: (weights, report)
Chooser = Callable[[list[str], _Problem, list[np.ndarray]], tuple[dict[str, float], dict]]


def _named(members: list[str], weights: np.ndarray) -> dict[str, float]:
    """A weight vector as {member: weight}, the members it leaves out dropped."""
    return {m: float(w) for m, w in zip(members, weights, strict=True) if w > 0}


def _mean(values: np.ndarray) -> float:
    defined = ~np.isnan(values)
    return float(values[defined].mean()) if defined.any() else float("nan")


def learn_weights(
    backtest: pd.DataFrame,
    history: pd.DataFrame,
    season: int,
    scales: SeriesScales | None = None,
    choose: Chooser | None = None,
    min_class_windows: int = MIN_CLASS_WINDOWS,
) -> LearnedWeights:
    """Per-class weights from a backtest with every family's rows (unique_id, ds, cutoff, y, model,
    forecast, demand_class); `history` provides each window's scales (data up to its cutoff only),
    `scales` the same when the caller has built them. `choose`: how one weight set is picked from its
    windows (default: the selection rule, _choose); a class with fewer than `min_class_windows`
    windows learns on all modelled classes."""
    choose = _choose if choose is None else choose
    scales = SeriesScales.build(history, season) if scales is None else scales
    by_class: dict[str, dict[str, float]] = {
        str(DemandClass.SHORT): {NAIVE_MODEL: 1.0},
        str(DemandClass.NO_DEMAND): {SILENT_RATE_MODEL: 1.0},
    }
    modelled = backtest[backtest["demand_class"].isin(MODELLED)]
    classes, class_names = pd.factorize(modelled["demand_class"])
    reports = []
    for cls in sorted(MODELLED):
        rows = modelled[np.asarray(class_names == cls)[classes]]
        coverage = _Coverage.of(rows)
        members = coverage.complete_members()
        capped = coverage.capped_members(members)
        full = coverage.full_windows(capped)
        covered = rows[full[coverage.window]]
        if coverage.n_windows < min_class_windows:
            rows = modelled
        learned = _learn(rows, members, scales, choose)
        by_class[cls] = learned[0] if learned else {UNLEARNED_MEMBER: 1.0}
        if learned:
            reports.append({"demand_class": cls, **learned[1]})
        if capped and full.sum() >= min_class_windows:
            learned = _learn(covered, [*members, *capped], scales, choose)
            if learned and set(learned[0]) & set(capped):  # else the class's own set serves these rows
                by_class[cls + CAPPED_SUFFIX] = learned[0]
                reports.append({"demand_class": cls + CAPPED_SUFFIX, **learned[1]})
    return LearnedWeights(by_class=by_class, report=pd.DataFrame(reports))


def hindsight_weights(windows: pd.DataFrame, history: pd.DataFrame, season: int) -> LearnedWeights:
    """The weights the ensemble's objective picks on `windows` (learn_weights' rows) with nothing held
    out, shrunk or fallen back from, and every class on its own windows however few. On the held-out
    periods of an evaluation they have seen the answers: not a forecast, but how far any weighting of
    these members could have gone there."""
    return learn_weights(windows, history, season, choose=_optimum, min_class_windows=1)


def _optimum(members: list[str], problem: _Problem, folds: list[np.ndarray]) -> tuple[dict[str, float], dict]:
    return _named(members, problem.solve()), {"members": ",".join(members)}


def _learn(
    rows: pd.DataFrame, members: list[str], scales: SeriesScales, choose: Chooser
) -> tuple[dict[str, float], dict] | None:
    """Weights of `members` learned on the windows of `rows` where all of them forecast."""
    if rows.empty or not members:
        return None
    forecasts = rows[rows["model"].isin(members)]  # a row of other models only has no forecast of all members
    pivot = forecasts.pivot_table(index=[*WINDOW, "ds"], columns="model", values="forecast")
    pivot = pivot[[m for m in members if m in pivot.columns]].dropna()
    if pivot.empty:
        return None
    actual = rows.drop_duplicates([*WINDOW, "ds"]).set_index([*WINDOW, "ds"])["y"].reindex(pivot.index)
    keys = pivot.index.droplevel("ds").to_frame(index=False)
    scaled = ScaledWindows.build(keys, scales)
    window_keys = keys.drop_duplicates().reset_index(drop=True)
    problem = _Problem(pivot.to_numpy(float), actual.to_numpy(float), scaled, pd.factorize(window_keys["unique_id"])[0])
    return choose(list(pivot.columns), problem, _folds(keys))


def _folds(keys: pd.DataFrame) -> list[np.ndarray]:
    """Held-out rows of each fold: one per cutoff, or two halves of the series with a single cutoff."""
    cutoffs = keys["cutoff"].to_numpy()
    if len(np.unique(cutoffs)) >= 2:
        return [np.flatnonzero(cutoffs == c) for c in np.unique(cutoffs)]
    ids = keys["unique_id"]
    first = ids.isin(set(ids.unique()[::2])).to_numpy()
    return [np.flatnonzero(first), np.flatnonzero(~first)]


def _choose(members: list[str], problem: _Problem, folds: list[np.ndarray]) -> tuple[dict[str, float], dict]:
    k = len(members)
    identity = np.eye(k)
    single_held: list[np.ndarray] = []
    combined_held: dict[float, list[np.ndarray]] = {lam: [] for lam in SHRINKAGE_GRID}
    clusters: list[np.ndarray] = []
    for held_out in folds:
        training = np.ones(len(problem.y), dtype=bool)
        training[held_out] = False
        train, test = problem.subset(np.flatnonzero(training)), problem.subset(held_out)
        if not len(train.y) or not len(test.y):
            continue
        learned, anchor = train.solve(), identity[train.best_single()]
        single_held.append(test.window_rmsse(anchor))
        for lam in SHRINKAGE_GRID:
            combined_held[lam].append(test.window_rmsse(lam * learned + (1 - lam) * anchor))
        clusters.append(test.series)
    best = problem.best_single()
    learned = problem.solve()
    in_sample_best = float(problem.single_objectives[best])
    if single_held and k > 1:
        single = np.concatenate(single_held)
        held = {lam: np.concatenate(v) for lam, v in combined_held.items()}
        shrinkage = min(SHRINKAGE_GRID, key=lambda lam: (_mean(held[lam]), -lam))
        advantage, z = paired_difference(single - held[shrinkage], np.concatenate(clusters))
        cv_single, cv_combined = _mean(single), _mean(held[shrinkage])
    else:
        shrinkage, advantage, z = 1.0, 0.0, 0.0
        cv_single = cv_combined = float("nan")
    combination = shrinkage * learned + (1 - shrinkage) * identity[best]
    fallback = not z > NOISE_Z
    weights = identity[best] if fallback else combination
    if problem.value(weights) > in_sample_best:  # numerical safety: never above the best member
        weights = identity[best]
    choice = "combination" if np.count_nonzero(weights) > 1 else "single"
    ensemble, single_scores = problem.scores(weights), problem.scores(identity[best])
    report = {
        "n_windows": problem.scaled.n_windows,
        "n_folds": len(single_held),
        "choice": choice,
        "fallback": bool(fallback and k > 1),
        "members": ",".join(members),
        "best_model": members[best],
        "shrinkage": shrinkage,
        "cv_advantage": advantage,
        "cv_advantage_z": z,
        "objective_ensemble": problem.value(weights),
        "objective_best_model": in_sample_best,
        "cv_objective_ensemble": cv_combined,
        "cv_objective_best_model": cv_single,
        "mase_ensemble": ensemble[0],
        "rmsse_ensemble": ensemble[1],
        "bias_ensemble": ensemble[2],
        "mase_best_model": single_scores[0],
        "rmsse_best_model": single_scores[1],
        "bias_best_model": single_scores[2],
    }
    return _named(members, weights), report


def combine(predictions: pd.DataFrame, weights: LearnedWeights, keys: list[str]) -> pd.DataFrame:
    """Weighted sum of the members per row (`keys`), with the weights of the row's demand class.

    A row where every member of its class's capped weight set (`<class>+capped`) forecasts takes
    that set. A member missing for a row (a family that failed on a series) has its weight spread
    over the others; a row with no member at all takes the seasonal naive forecast.
    """
    group, combined = key_groups(predictions, keys)
    models, model_names = pd.factorize(predictions["model"])
    sets, set_names = _weight_sets(predictions, weights, group, models, model_names)
    table = np.zeros((len(set_names), len(model_names)))  # weight of each (weight set, model)
    for i, name in enumerate(set_names):
        for model, weight in weights.by_class.get(name, {}).items():
            if model in model_names:
                table[i, model_names.get_loc(model)] = weight
    forecast = predictions["forecast"].to_numpy(float)
    weight = table[sets, models] if len(predictions) else np.zeros(0)
    extra = [c for c in ("y", "demand_class") if c in predictions.columns]
    frame = pd.DataFrame(
        {"weighted": forecast * weight, "weight": weight} | {c: predictions[c].to_numpy() for c in extra}
    )
    totals = frame.groupby(group).agg(
        weighted=("weighted", "sum"), weight=("weight", "sum"), **{c: (c, "first") for c in extra}
    )
    naive = (models == model_names.get_loc(NAIVE_MODEL)) if NAIVE_MODEL in model_names else np.zeros(len(models), bool)
    fallback = np.full(len(combined), np.nan)
    fallback[group[naive]] = forecast[naive]
    weighted, total = totals["weighted"].to_numpy(), totals["weight"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mixed = np.where(total > 0, weighted / total, fallback)
    return combined.assign(**{c: totals[c].to_numpy() for c in extra}, forecast=mixed, model=ENSEMBLE_MODEL)


def fallbacks(forecasts: pd.DataFrame, weights: LearnedWeights) -> pd.DataFrame:
    """Per series (unique_id, demand_class, fallback): how its ensemble forecast was made when it is
    not its class's learned combination ("" when it is), in words a planner can read."""
    first = forecasts[forecasts["ds"] == forecasts.groupby("unique_id")["ds"].transform("min")]
    group = first.groupby(["unique_id", "ds"], sort=False).ngroup().to_numpy()
    sets, set_names = _weight_sets(first, weights, group, *pd.factorize(first["model"]))
    first = first.assign(weight_set=np.asarray(set_names, dtype=object)[sets])
    present = first.groupby("unique_id")["model"].agg(set)
    series = first.drop_duplicates("unique_id").set_index("unique_id")[["demand_class", "weight_set"]]
    silent_rate = first[first["model"] == SILENT_RATE_MODEL].set_index("unique_id")["forecast"]
    reasons = []
    for uid, row in series.iterrows():
        if row["demand_class"] == DemandClass.SHORT:
            reasons.append(f"shorter than a season + 1: {NAIVE_MODEL} (the mean of its history)")
        elif row["demand_class"] == DemandClass.NO_DEMAND:
            rate = float(silent_rate.get(uid, 0.0))
            reasons.append(
                f"no demand yet: {rate:.3g} per period, what the items without demand a horizon earlier sold since"
                if rate > 0
                else "no demand yet: zero"
            )
        elif row["weight_set"] not in weights.learned_sets:
            reasons.append(f"no backtest window to learn weights from: {UNLEARNED_MEMBER}")
        else:
            missing = sorted(set(weights.by_class.get(row["weight_set"], {})) - present[uid])
            reasons.append(f"without {', '.join(missing)}: the other members' weights" if missing else "")
    return series[["demand_class"]].assign(fallback=reasons).reset_index()


def _weight_sets(
    predictions: pd.DataFrame, weights: LearnedWeights, group: np.ndarray, models: np.ndarray, model_names: pd.Index
) -> tuple[np.ndarray, list]:
    """Per row the number of its weight set in the list returned with them: its class's capped set if
    all of that set's members forecast the row's key (`group`: its number), else its class. `models`:
    the rows' model codes into `model_names`."""
    sets, names = pd.factorize(predictions["demand_class"])
    names = list(names)
    n_groups = int(group.max()) + 1 if len(group) else 0
    for name, members in weights.by_class.items():
        cls = name.removesuffix(CAPPED_SUFFIX)
        if not name.endswith(CAPPED_SUFFIX) or cls not in names:
            continue
        in_class = sets == names.index(cls)
        member = pd.Index(list(members)).get_indexer(model_names)[models]  # number in `members`, -1 if none
        rows = in_class & (member >= 0)
        present = np.zeros((n_groups, len(members)), dtype=bool)
        present[group[rows], member[rows]] = True
        sets[in_class & present.all(axis=1)[group]] = len(names)
        names.append(name)
    return sets, names


@dataclass(frozen=True)
class _Coverage:
    """Which models forecast which windows of a class's backtest rows."""

    window: np.ndarray  # (rows,) window number of each row
    models: pd.Index  # the models of the rows
    present: np.ndarray  # (windows, models) whether the model forecasts the window

    @classmethod
    def of(cls, rows: pd.DataFrame) -> _Coverage:
        window = rows.groupby(WINDOW, sort=False).ngroup().to_numpy()
        codes, models = pd.factorize(rows["model"])
        present = np.zeros((int(window.max()) + 1 if len(window) else 0, len(models)), dtype=bool)
        present[window, codes] = True
        return cls(window, models, present)

    @property
    def n_windows(self) -> int:
        return self.present.shape[0]

    def _counts(self) -> list[tuple[str, int]]:
        return list(zip(self.models, self.present.sum(axis=0), strict=True))

    def complete_members(self) -> list[str]:
        """Models with a forecast for every window of the class (a family routed away from it has none)."""
        return sorted(m for m, n in self._counts() if n == self.n_windows and m not in NOT_WEIGHTED)

    def capped_members(self, complete: list[str]) -> list[str]:
        """Models that forecast some windows of the class but not all (capped to the top series by volume)."""
        return sorted(
            m for m, n in self._counts() if m not in complete and m not in NOT_WEIGHTED and n >= MIN_CLASS_WINDOWS
        )

    def full_windows(self, models: list[str]) -> np.ndarray:
        """(windows,) whether every one of `models` forecasts the window (none without models)."""
        if not models:
            return np.zeros(self.n_windows, dtype=bool)
        return self.present[:, self.models.get_indexer(models)].all(axis=1)
