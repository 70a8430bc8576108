"""Failure model per equipment type: a Weibull proportional-hazards intensity in equipment age with
weather and site covariates, fitted by maximum likelihood on the work orders and installed base.

Equipment is repairable: a corrective order replaces a part and the unit goes on ageing, so its
failures are a power-law process in age a (years), "minimal repair", Crow-AMSAA with covariates:

    lambda_j(a, d, s) = exp(theta_j + alpha_s + heat_j * heat_d + rain_j * rain_d) * d/da a^k_j

so the expected failures of a unit over one day are exp(...) ((a + 1 day)^k - a^k), the shape k_j and
scale eta_j = exp(-theta_j / k_j) those of a Weibull (k > 1: wear-out), heat/rain the day's weather
covariates (lib.maintenance.covariates) and alpha_s a site's log frailty (ridge-shrunk toward 0, so
a site with no failures stays finite; it fixes the mean of alpha at 0). Failures are counted per unit
and day, so the likelihood is that of Poisson counts per in-service unit-day, exact for daily
covariates. Each unit enters at max(install date, start of the data) with its age then (left
truncation: units installed before the data are not treated as new) and leaves at its decommission
date or the end of the data (right censoring). lifelines' parametric regressions take one covariate
row per subject and its time-varying Cox model has no parametric baseline to extrapolate ages with,
so the likelihood (a few sparse products) is maximised here with scipy; its curvature gives the
parameters' covariance, and forecasts draw parameters from it, a weather year per month from the
history, and Poisson counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from threadpoolctl import threadpool_limits

from nova_assets.lib.maintenance.contracts import CORRECTIVE, service_days, typed_installed_base, typed_work_orders
from nova_assets.lib.maintenance.covariates import COVARIATES, weather_covariates

DAYS_PER_YEAR = 365.25
MIN_FAILURES = 5  # a type with fewer failures in the data is not fitted (its shape is not identified)
SITE_PRIOR_SD = 0.5  # ridge on the site log frailties: a normal prior with this sd
FORECAST_QUANTILES = (0.05, 0.5, 0.95)
N_DRAWS = 400
PER_TYPE = ("log_shape", "log_rate", *COVARIATES)  # packed parameters of one type


@dataclass(frozen=True)
class FailureModel:
    """Fitted parameters (packed: PER_TYPE per type, then one log frailty per site) and their covariance."""

    types: tuple[str, ...]
    sites: tuple[str, ...]
    params: np.ndarray
    covariance: np.ndarray
    covariates: pd.DataFrame  # the fitted days' weather covariates: the climate forecasts draw from
    summary: pd.DataFrame  # per type: failures, unit_years, shape, scale_years, heat, rain (+ _se)
    skipped: dict[str, str] = field(default_factory=dict)  # type -> why it was not fitted

    def site_effects(self) -> pd.Series:
        """Log frailty per site (0 = an average site)."""
        return pd.Series(self.params[len(PER_TYPE) * len(self.types) :], index=list(self.sites), name="log_frailty")

    def to_json(self) -> dict:
        """The fitted model as plain JSON values (the cycle stores it beside its summary for the assets
        that forecast with it); `from_json` restores it exactly."""
        return {
            "types": list(self.types),
            "sites": list(self.sites),
            "params": self.params.tolist(),
            "covariance": self.covariance.tolist(),
            "covariate_days": [d.isoformat() for d in self.covariates.index],
            "covariate_index": self.covariates.index.name,
            "covariates": self.covariates.to_dict(orient="list"),
            "summary": self.summary.to_dict(orient="list"),
            "skipped": self.skipped,
        }

    @classmethod
    def from_json(cls, value: dict) -> FailureModel:
        days = pd.DatetimeIndex(pd.to_datetime(value["covariate_days"]), name=value["covariate_index"])
        return cls(
            types=tuple(value["types"]),
            sites=tuple(value["sites"]),
            params=np.asarray(value["params"], dtype=float),
            covariance=np.asarray(value["covariance"], dtype=float),
            covariates=pd.DataFrame(value["covariates"], index=days),
            summary=pd.DataFrame(value["summary"]),
            skipped=dict(value["skipped"]),
        )


@dataclass(frozen=True)
class _UnitDays:
    """In-service unit-days of a period, as flat arrays."""

    unit: np.ndarray  # row of the installed base
    day: np.ndarray  # index into the period's days
    age: np.ndarray  # age in days at the start of the day
    type_idx: np.ndarray
    site_idx: np.ndarray  # -1 for a site the model does not know


def fit_failure_model(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
) -> FailureModel:
    """Fit on the corrective orders whose failure date is in [start, end] (the days the work-order
    history covers) and the units in service then. Types with fewer than MIN_FAILURES failures are
    skipped (listed in `skipped`)."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    base = typed_installed_base(installed_base)
    failures = _failures(base, work_orders, days)
    counts = failures.groupby(base.loc[failures["unit"], "equipment_type"].to_numpy()).size()
    skipped = {
        t: f"{int(counts.get(t, 0))} failures in the data (< {MIN_FAILURES})"
        for t in sorted(base["equipment_type"].unique())
        if counts.get(t, 0) < MIN_FAILURES
    }
    types = tuple(t for t in sorted(base["equipment_type"].unique()) if t not in skipped)
    if not types:
        raise ValueError(f"no equipment type has {MIN_FAILURES} failures to fit: {skipped}")
    sites = tuple(sorted(base.loc[base["equipment_type"].isin(types), "site_id"].unique()))
    covariates = weather_covariates(weather, days)
    unit_days = _unit_days(base, days, types, sites)
    problem = _Likelihood(unit_days, failures, covariates.to_numpy(), len(types), len(sites), len(days))
    x0 = np.zeros(len(PER_TYPE) * len(types) + len(sites))
    for j in range(len(types)):  # start at shape 1 and the crude rate of each type
        exposure = unit_days.type_idx == j
        x0[len(PER_TYPE) * j + 1] = np.log(max(problem.events[j][2].sum(), 1) / (exposure.sum() / DAYS_PER_YEAR))
    # one BLAS thread: the products are small, and thread start-up on a shared machine costs more
    with threadpool_limits(1):
        result = optimize.minimize(problem.negative, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
        if not np.isfinite(result.fun):
            raise RuntimeError(f"failure model did not converge: {result.message}")
        covariance = _covariance(problem, result.x)
    return FailureModel(
        types=types,
        sites=sites,
        params=result.x,
        covariance=covariance,
        covariates=covariates,
        summary=_summary(types, result.x, covariance, problem, unit_days),
        skipped=skipped,
    )


def expected_failures(
    model: FailureModel, installed_base: pd.DataFrame, start: pd.Timestamp | str, end: pd.Timestamp | str
) -> pd.DataFrame:
    """Point forecast per unit and day over [start, end]: equipment_id, equipment_type, model, site_id,
    date, expected (failures), with the weather effect at its calendar-month mean."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    base = typed_installed_base(installed_base)
    unit_days = _unit_days(base, days, model.types, model.sites)
    effect = _month_effects(model, model.params)  # (types, 12, years)
    weather = np.nanmean(effect, axis=2)[unit_days.type_idx, days.month.to_numpy()[unit_days.day] - 1]
    mean = _unit_day_means(model, model.params, unit_days) * weather
    rows = base.iloc[unit_days.unit]
    return pd.DataFrame(
        {
            "equipment_id": rows["equipment_id"].to_numpy(),
            "equipment_type": rows["equipment_type"].to_numpy(),
            "model": rows["model"].to_numpy(),
            "site_id": rows["site_id"].to_numpy(),
            "date": days[unit_days.day],
            "expected": mean,
        }
    )


def forecast_failures(
    model: FailureModel,
    installed_base: pd.DataFrame,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    *,
    by: Sequence[str] = ("site_id", "equipment_type"),
    freq: str = "M",
    quantiles: Sequence[float] = FORECAST_QUANTILES,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected failures per period (a pandas period alias: M, W, D; labelled by the period's start) and group of `by`
    over [start, end], with quantiles of the count from n_draws simulations: parameters drawn from
    their estimated normal distribution, each month's weather effect from one year of the history,
    then Poisson counts. Columns: period, *by, expected, p5, p50, p95 (per `quantiles`)."""
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    base = typed_installed_base(installed_base)
    unit_days = _unit_days(base, days, model.types, model.sites)
    periods = days.to_period(freq).start_time
    keys = base.iloc[unit_days.unit][list(by)].reset_index(drop=True).assign(period=periods[unit_days.day])
    groups, group_idx = _group(keys, ["period", *by])
    month = days.month.to_numpy()[unit_days.day] - 1
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(model.params, model.covariance, size=n_draws, method="eigh")
    draws[0] = model.params
    totals = np.zeros((len(groups), n_draws))
    for i, params in enumerate(draws):
        effect = _month_effects(model, params)
        years = effect.shape[2]
        pick = rng.integers(years, size=12)  # one history year's weather per calendar month
        chosen = effect[:, np.arange(12), pick]
        chosen = np.where(np.isnan(chosen), np.nanmean(effect, axis=2), chosen)
        mean = _unit_day_means(model, params, unit_days) * chosen[unit_days.type_idx, month]
        totals[:, i] = np.bincount(group_idx, weights=mean, minlength=len(groups))
    expected_weather = np.nanmean(_month_effects(model, model.params), axis=2)
    point = _unit_day_means(model, model.params, unit_days) * expected_weather[unit_days.type_idx, month]
    counts = rng.poisson(totals)
    out = groups.assign(expected=np.bincount(group_idx, weights=point, minlength=len(groups)))
    for q in quantiles:
        out[f"p{q * 100:g}"] = np.quantile(counts, q, axis=1)
    return out.sort_values(["period", *by], ignore_index=True)


def backtest_failures(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather: pd.DataFrame,
    start: pd.Timestamp | str,
    cutoffs: Sequence[pd.Timestamp | str],
    horizon_months: int = 3,
    *,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> pd.DataFrame:
    """Rolling-origin backtest: at each cutoff (the last day of a month) fit on [start, cutoff] and
    forecast the next `horizon_months` months per equipment type, for the units installed by the
    cutoff (what the installed base said then; decommission dates taken as planned). Columns: cutoff,
    step (months ahead), period, equipment_type, expected, p5, p50, p95, observed."""
    base = typed_installed_base(installed_base)
    corrective = _corrective(work_orders)
    rows = []
    for cutoff in map(pd.Timestamp, cutoffs):
        known = base[base["install_date"] <= cutoff]
        model = fit_failure_model(known, work_orders, weather, start, cutoff)
        last = (cutoff + pd.offsets.MonthBegin(horizon_months + 1)) - pd.Timedelta(days=1)
        forecast = forecast_failures(
            model, known, cutoff + pd.Timedelta(days=1), last, by=("equipment_type",), n_draws=n_draws, seed=seed
        )
        observed = _observed(known, corrective, cutoff, last)
        frame = forecast.merge(observed, on=["period", "equipment_type"], how="left").fillna({"observed": 0})
        step = (frame["period"].dt.year - cutoff.year) * 12 + frame["period"].dt.month - cutoff.month
        rows.append(frame.assign(cutoff=cutoff, step=step))
    columns = ["cutoff", "step", "period", "equipment_type", "expected", "p5", "p50", "p95", "observed"]
    return pd.concat(rows, ignore_index=True)[columns]


def calibration(backtest: pd.DataFrame, by: Sequence[str] = ("equipment_type",)) -> pd.DataFrame:
    """Predicted vs observed failures of a backtest per group: sums, their ratio, the share of
    (cutoff, period, type) cells inside the 90 % interval [p5, p95], and the cells compared."""
    inside = (backtest["observed"] >= backtest["p5"]) & (backtest["observed"] <= backtest["p95"])
    grouped = backtest.assign(inside=inside).groupby(list(by), sort=True)
    out = grouped.agg(
        cells=("observed", "size"),
        expected=("expected", "sum"),
        observed=("observed", "sum"),
        coverage_90=("inside", "mean"),
    ).reset_index()
    out["observed_over_expected"] = out["observed"] / out["expected"]
    return out


def _corrective(work_orders: pd.DataFrame) -> pd.DataFrame:
    orders = typed_work_orders(work_orders)
    return orders[orders["kind"] == CORRECTIVE].dropna(subset=["failure_date"])


def _failures(base: pd.DataFrame, work_orders: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Failures (unit row, day index) in the period, of units in service that day."""
    orders = _corrective(work_orders)
    orders = orders[(orders["failure_date"] >= days[0]) & (orders["failure_date"] <= days[-1])]
    row_of = pd.Series(np.arange(len(base)), index=base["equipment_id"])
    unit = orders["equipment_id"].map(row_of)
    known = unit.notna().to_numpy()
    unit = unit[known].astype(int).to_numpy()
    failed = orders["failure_date"].to_numpy()[known]
    installed = base["install_date"].to_numpy()[unit]
    decommissioned = base["decommission_date"].to_numpy()[unit]
    in_service = (failed >= installed) & ~(failed >= decommissioned)
    day = ((failed - days[0].to_datetime64()) // np.timedelta64(1, "D")).astype(int)
    return pd.DataFrame({"unit": unit[in_service], "day": day[in_service]})


def _unit_days(base: pd.DataFrame, days: pd.DatetimeIndex, types: Sequence[str], sites: Sequence[str]) -> _UnitDays:
    """Every (unit, day) of the period the unit is in service: from its install date (or the period
    start) to the day before its decommission date (or the period end)."""
    fitted = base["equipment_type"].isin(types).to_numpy()
    install = (base["install_date"] - days[0]).dt.days.to_numpy()
    first, last = service_days(base, days[0], days[-1])
    length = np.where(fitted, np.maximum(last - first, 0), 0).astype(int)
    unit = np.repeat(np.arange(len(base)), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    day = np.repeat(first, length).astype(int) + offset
    type_of = {t: i for i, t in enumerate(types)}
    site_of = {s: i for i, s in enumerate(sites)}
    return _UnitDays(
        unit=unit,
        day=day,
        age=(day - install[unit]).astype(int),
        type_idx=base["equipment_type"].map(type_of).fillna(-1).astype(int).to_numpy()[unit],
        site_idx=base["site_id"].map(site_of).fillna(-1).astype(int).to_numpy()[unit],
    )


def _age_terms(age_days: np.ndarray, shape: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integrated age term g = (a + 1 day)^k - a^k (ages in years) and its first two derivatives in k."""
    upper = (age_days + 1) / DAYS_PER_YEAR
    lower = age_days / DAYS_PER_YEAR
    log_upper = np.log(upper)
    log_lower = np.log(np.where(lower > 0, lower, 1.0))  # a^k log a -> 0 at a = 0
    upper_k, lower_k = upper**shape, lower**shape
    g = upper_k - lower_k
    dg = upper_k * log_upper - lower_k * log_lower
    d2g = upper_k * log_upper**2 - lower_k * log_lower**2
    return g, dg, d2g


class _Likelihood:
    """Penalised Poisson log-likelihood of the failures and its gradient, from sparse exposure tables:
    per type, how many units of each age (days) were in service at each (site, day) cell."""

    def __init__(
        self,
        unit_days: _UnitDays,
        failures: pd.DataFrame,
        covariates: np.ndarray,
        n_types: int,
        n_sites: int,
        n_days: int,
    ) -> None:
        self.n_types, self.n_sites, self.n_days = n_types, n_sites, n_days
        self.covariates = covariates
        self.max_age = int(unit_days.age.max()) + 1 if unit_days.age.size else 1
        self.ages = np.arange(self.max_age)
        self.exposure = []
        for j in range(n_types):
            mine = unit_days.type_idx == j
            cells = unit_days.site_idx[mine] * n_days + unit_days.day[mine]
            self.exposure.append(
                sparse.csr_matrix(
                    (np.ones(mine.sum()), (cells, unit_days.age[mine])), shape=(n_sites * n_days, self.max_age)
                )
            )
        # failures as (cell, age, count) per type
        key = pd.DataFrame({"unit": unit_days.unit, "day": unit_days.day, "row": np.arange(unit_days.unit.size)})
        hit = failures.merge(key, on=["unit", "day"], how="inner")["row"].to_numpy()
        self.events = []
        for j in range(n_types):
            rows = hit[unit_days.type_idx[hit] == j]
            cell = unit_days.site_idx[rows] * n_days + unit_days.day[rows]
            frame = pd.DataFrame({"cell": cell, "age": unit_days.age[rows]}).value_counts().reset_index()
            self.events.append((frame["cell"].to_numpy(), frame["age"].to_numpy(), frame["count"].to_numpy(float)))

    def negative(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = self.log_likelihood(x)
        return -value, -gradient

    def log_likelihood(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        p = len(PER_TYPE)
        alpha = x[p * self.n_types :]
        value = -0.5 * np.sum(alpha**2) / SITE_PRIOR_SD**2
        gradient = np.zeros_like(x)
        gradient[p * self.n_types :] = -alpha / SITE_PRIOR_SD**2
        site_of_cell = np.repeat(np.arange(self.n_sites), self.n_days)
        for j in range(self.n_types):
            log_shape, log_rate, coefs = x[p * j], x[p * j + 1], x[p * j + 2 : p * j + p]
            shape = np.exp(log_shape)
            g, dg, _ = _age_terms(self.ages, shape)
            day_effect = self.covariates @ coefs
            linear = log_rate + alpha[:, None] + day_effect[None, :]  # (sites, days)
            scale = np.exp(linear).ravel()
            exposure = self.exposure[j]
            mu = scale * (exposure @ g)
            cell, age, count = self.events[j]
            value += float(np.sum(count * (linear.ravel()[cell] + np.log(g[age]))) - mu.sum())
            residual_site_day = -mu.reshape(self.n_sites, self.n_days)
            np.add.at(residual_site_day, (site_of_cell[cell], cell % self.n_days), count)
            gradient[p * j] = shape * float(np.sum(count * dg[age] / g[age]) - np.sum(scale * (exposure @ dg)))
            gradient[p * j + 1] = residual_site_day.sum()
            gradient[p * j + 2 : p * j + p] = self.covariates.T @ residual_site_day.sum(axis=0)
            gradient[p * self.n_types :] += residual_site_day.sum(axis=1)
        return value, gradient

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Analytic Hessian: -sum(mu x x') for the log-linear parameters, plus the shape terms."""
        p = len(PER_TYPE)
        n_sites = self.n_sites
        alpha = x[p * self.n_types :]
        hessian = np.zeros((x.size, x.size))
        sites = slice(p * self.n_types, x.size)
        hessian[sites, sites] -= np.eye(n_sites) / SITE_PRIOR_SD**2
        w = self.covariates
        for j in range(self.n_types):
            log_shape, log_rate, coefs = x[p * j], x[p * j + 1], x[p * j + 2 : p * j + p]
            shape = np.exp(log_shape)
            g, dg, d2g = _age_terms(self.ages, shape)
            scale = np.exp(log_rate + alpha[:, None] + (w @ coefs)[None, :])  # (sites, days)
            mu = scale * (self.exposure[j] @ g).reshape(n_sites, self.n_days)
            mu1 = scale * (self.exposure[j] @ dg).reshape(n_sites, self.n_days)
            mu2 = scale * (self.exposure[j] @ d2g).reshape(n_sites, self.n_days)
            _, age, count = self.events[j]
            by_day, by_site = mu.sum(axis=0), mu.sum(axis=1)
            linear = [p * j + 1, *range(p * j + 2, p * j + p)]
            # theta and the weather coefficients: x = (1, w_d)
            design = np.column_stack([np.ones(self.n_days), w])
            hessian[np.ix_(linear, linear)] -= design.T @ (design * by_day[:, None])
            cross_sites = (design.T @ mu.T).T  # (sites, 1 + covariates)
            hessian[sites, linear] -= cross_sites
            hessian[linear, sites] -= cross_sites.T
            hessian[sites, sites] -= np.diag(by_site)
            # the log shape
            first = float(np.sum(count * dg[age] / g[age]) - mu1.sum())
            second = float(np.sum(count * (d2g[age] / g[age] - (dg[age] / g[age]) ** 2)) - mu2.sum())
            k = p * j
            hessian[k, k] = shape * first + shape**2 * second
            cross = -shape * (design.T @ mu1.sum(axis=0))
            hessian[k, linear] = hessian[linear, k] = cross
            hessian[k, sites] = hessian[sites, k] = -shape * mu1.sum(axis=1)
        return hessian


def _covariance(problem: _Likelihood, x: np.ndarray) -> np.ndarray:
    """Inverse of the observed information (the negative Hessian of the penalised log-likelihood)."""
    return np.linalg.pinv(-problem.hessian(x))


def _summary(
    types: Sequence[str], x: np.ndarray, covariance: np.ndarray, problem: _Likelihood, unit_days: _UnitDays
) -> pd.DataFrame:
    """Per type: failures, unit-years observed, shape, scale (years), heat and rain with standard
    errors (delta method for shape and scale)."""
    p = len(PER_TYPE)
    rows = []
    for j, name in enumerate(types):
        log_shape, log_rate = x[p * j], x[p * j + 1]
        shape = float(np.exp(log_shape))
        scale = float(np.exp(-log_rate / shape))
        block = covariance[p * j : p * j + p, p * j : p * j + p]
        # d log(scale) / d(log_shape, log_rate) = (log_rate / shape, -1 / shape)
        grad = np.array([log_rate / shape, -1 / shape])
        row = {
            "equipment_type": name,
            "failures": int(problem.events[j][2].sum()),
            "unit_years": float((unit_days.type_idx == j).sum() / DAYS_PER_YEAR),
            "shape": shape,
            "shape_se": shape * float(np.sqrt(max(block[0, 0], 0.0))),
            "scale_years": scale,
            "scale_years_se": scale * float(np.sqrt(max(grad @ block[:2, :2] @ grad, 0.0))),
        }
        for k, name_cov in enumerate(COVARIATES):
            row[name_cov] = float(x[p * j + 2 + k])
            row[f"{name_cov}_se"] = float(np.sqrt(max(block[2 + k, 2 + k], 0.0)))
        rows.append(row)
    return pd.DataFrame(rows)


def _month_effects(model: FailureModel, params: np.ndarray) -> np.ndarray:
    """(types, 12, years) mean weather multiplier exp(x·coef) per type, calendar month and history
    year (NaN where the history lacks that month in that year; a month missing from every year takes
    the mean over all days)."""
    p = len(PER_TYPE)
    covariates = model.covariates[list(COVARIATES)].to_numpy()
    index = model.covariates.index
    years = np.unique(index.year)
    out = np.full((len(model.types), 12, len(years)), np.nan)
    cell = (index.month.to_numpy() - 1) * len(years) + np.searchsorted(years, index.year.to_numpy())
    days_in_cell = np.bincount(cell, minlength=12 * len(years))
    for j in range(len(model.types)):
        effect = np.exp(covariates @ params[p * j + 2 : p * j + p])
        sums = np.bincount(cell, weights=effect, minlength=12 * len(years))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[j] = np.where(days_in_cell > 0, sums / days_in_cell, np.nan).reshape(12, len(years))
        unseen = np.isnan(out[j]).all(axis=1)  # a calendar month the history lacks: the overall mean
        out[j][unseen] = effect.mean()
    return out


def _unit_day_means(model: FailureModel, params: np.ndarray, unit_days: _UnitDays) -> np.ndarray:
    """Expected failures per unit-day without the weather effect: exp(theta + alpha) g_k(age)."""
    p = len(PER_TYPE)
    n_types = len(model.types)
    shape = np.exp(params[0 : p * n_types : p])[unit_days.type_idx]
    log_rate = params[1 : p * n_types : p][unit_days.type_idx]
    alpha = np.where(unit_days.site_idx >= 0, params[p * n_types :][np.maximum(unit_days.site_idx, 0)], 0.0)
    g, _, _ = _age_terms(unit_days.age, shape)
    return np.exp(log_rate + alpha) * g


def _group(keys: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct key rows and each input row's group number."""
    codes = keys.groupby(columns, sort=True).ngroup().to_numpy()
    groups = keys.drop_duplicates(columns).assign(_code=lambda f: codes[f.index]).sort_values("_code")
    return groups[columns].reset_index(drop=True), codes


def _observed(base: pd.DataFrame, corrective: pd.DataFrame, after: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Failures per month and type of the given units in (after, last]."""
    orders = corrective[(corrective["failure_date"] > after) & (corrective["failure_date"] <= last)]
    orders = orders.merge(base[["equipment_id", "equipment_type"]], on="equipment_id", how="inner")
    period = orders["failure_date"].dt.to_period("M").dt.start_time
    return orders.assign(period=period).groupby(["period", "equipment_type"]).size().rename("observed").reset_index()
