"""The failure model recovers the generator's hazard parameters and forecasts calibrated counts.

Stated tolerances, on the shared synthetic business (60 towers, 4 years of the real Salvador weather,
about 900 failures over six equipment types): every estimate within RECOVERY_Z standard errors of
the generator's constant, the mean squared z-score at most MEAN_Z2 (standard errors that are right on
average: 1 expected), shape within 25 %, scale within 50 % and the weather coefficients within 0.35
of the truth, and the site frailties correlated above 0.6 with the true ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.maintenance import failure_model
from nova_assets.lib.maintenance.failure_model import (
    backtest_failures,
    calibration,
    expected_failures,
    fit_failure_model,
    forecast_failures,
)
from nova_assets.lib.sample.maintenance_generator import EQUIPMENT_TYPES
from tests.unit import maintenance_data
from tests.unit.maintenance_data import END, START

RECOVERY_Z = 3.5
MEAN_Z2 = 2.5
SHAPE_RELATIVE = 0.25
SCALE_RELATIVE = 0.5
WEATHER_ABSOLUTE = 0.35
FRAILTY_CORRELATION = 0.6


def test_fit_recovers_the_generator_parameters_within_stated_tolerances() -> None:
    model = maintenance_data.fitted()
    fitted = model.summary.set_index("equipment_type")
    assert sorted(fitted.index) == sorted(t.code for t in EQUIPMENT_TYPES) and not model.skipped
    z2 = []
    for kind_type in EQUIPMENT_TYPES:
        row = fitted.loc[kind_type.code]
        truth = {"shape": kind_type.shape, "scale_years": kind_type.scale_years, "heat": kind_type.heat}
        truth["rain"] = kind_type.rain
        for name, value in truth.items():
            z = (row[name] - value) / row[f"{name}_se"]
            assert abs(z) <= RECOVERY_Z, (kind_type.code, name, row[name], value)
            z2.append(z**2)
        assert abs(row["shape"] / kind_type.shape - 1) <= SHAPE_RELATIVE
        assert abs(row["scale_years"] / kind_type.scale_years - 1) <= SCALE_RELATIVE
        assert abs(row["heat"] - kind_type.heat) <= WEATHER_ABSOLUTE
        assert abs(row["rain"] - kind_type.rain) <= WEATHER_ABSOLUTE
        if kind_type.shape >= 1.8:
            assert row["shape"] - 2 * row["shape_se"] > 1, "clear wear-out is detected"
    assert np.mean(z2) <= MEAN_Z2
    truth = maintenance_data.sample().site_frailty
    assert np.corrcoef(model.site_effects().loc[truth.index], truth)[0, 1] > FRAILTY_CORRELATION


def test_analytic_gradient_and_hessian_match_finite_differences() -> None:
    data = maintenance_data.sample(6, seed=5)
    model = fit_failure_model(data.installed_base, data.work_orders, maintenance_data.weather(), START, END)
    days = pd.date_range(START, END)
    base = failure_model.typed_installed_base(data.installed_base)
    unit_days = failure_model._unit_days(base, days, model.types, model.sites)
    problem = failure_model._Likelihood(
        unit_days,
        failure_model._failures(base, data.work_orders, days),
        model.covariates.to_numpy(),
        len(model.types),
        len(model.sites),
        len(days),
    )
    x = model.params + np.random.default_rng(0).normal(0, 0.05, model.params.size)
    _, gradient = problem.log_likelihood(x)
    step = 1e-6
    numeric = np.array(
        [
            (problem.log_likelihood(x + step * e)[0] - problem.log_likelihood(x - step * e)[0]) / (2 * step)
            for e in np.eye(x.size)
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-3)
    hessian = problem.hessian(x)
    numeric_hessian = np.column_stack(
        [
            (problem.log_likelihood(x + step * e)[1] - problem.log_likelihood(x - step * e)[1]) / (2 * step)
            for e in np.eye(x.size)
        ]
    )
    np.testing.assert_allclose(hessian, numeric_hessian, rtol=1e-3, atol=1e-2)


def test_units_installed_before_the_data_enter_at_their_age() -> None:
    """Left truncation: most units were installed years before the data starts; a model that took them
    as new at the start would see no wear-out. The fit sees it (test above) because each enters at
    its age then."""
    base = maintenance_data.sample().installed_base
    before = pd.to_datetime(base["install_date"]) < pd.Timestamp(START)
    assert before.mean() > 0.7
    ages = (pd.Timestamp(START) - pd.to_datetime(base["install_date"][before])).dt.days / 365.25
    assert ages.median() > 5


def test_forecast_counts_decommissions_and_orders_its_quantiles() -> None:
    data = maintenance_data.sample()
    model = maintenance_data.fitted()
    start, end = pd.Timestamp(END) + pd.Timedelta(days=1), pd.Timestamp(END) + pd.Timedelta(days=90)
    forecast = forecast_failures(model, data.installed_base, start, end, n_draws=200)
    assert list(forecast.columns) == ["period", "site_id", "equipment_type", "expected", "p5", "p50", "p95"]
    assert (forecast["p5"] <= forecast["p50"]).all() and (forecast["p50"] <= forecast["p95"]).all()
    assert forecast["period"].nunique() == 4  # a partial month on each side and two full ones
    daily = expected_failures(model, data.installed_base, start, end)
    assert forecast["expected"].sum() == pytest.approx(daily["expected"].sum())
    base = data.installed_base.set_index("equipment_id")
    decommission = pd.to_datetime(daily["equipment_id"].map(base["decommission_date"]))
    assert not (daily["date"] >= decommission).any(), "a unit stops failing on its decommission date"
    assert daily.groupby("equipment_id").size().max() == 90


def test_backtest_is_calibrated_month_by_month() -> None:
    """Two rolling origins, three months each, per type: observed within 25 % of expected in all,
    and at least 80 % of the (origin, month, type) cells inside their 90 % interval."""
    data = maintenance_data.sample()
    backtest = backtest_failures(
        data.installed_base,
        data.work_orders,
        maintenance_data.weather(),
        START,
        ["2025-01-31", "2025-06-30"],
        horizon_months=3,
        n_draws=200,
    )
    assert len(backtest) == 2 * 3 * len(EQUIPMENT_TYPES)
    overall = calibration(backtest.assign(all="all"), by=["all"]).iloc[0]
    assert 0.8 <= overall["observed_over_expected"] <= 1.25
    assert overall["coverage_90"] >= 0.8
    per_type = calibration(backtest)
    assert per_type["observed_over_expected"].between(0.6, 1.6).all()


def test_a_history_shorter_than_a_year_still_forecasts_every_month() -> None:
    """Months the weather history lacks take its overall mean effect, not NaN."""
    data = maintenance_data.sample()
    end = pd.Timestamp(START) + pd.Timedelta(days=240)
    model = fit_failure_model(data.installed_base, data.work_orders, maintenance_data.weather(), START, end)
    forecast = forecast_failures(
        model, data.installed_base, end + pd.Timedelta(days=1), end + pd.Timedelta(days=365), n_draws=50
    )
    assert forecast["period"].dt.month.nunique() == 12
    assert np.isfinite(forecast[["expected", "p5", "p95"]].to_numpy()).all()
