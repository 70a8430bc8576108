"""Any history length gets a forecast: new items with a few points, items without demand, series too
short for a family's methods and tables too short for any backtest window. No traceback; the
output says which items got which fallback."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.forecast_cli import add_forecast_commands
from nova_assets.lib.forecasting.models import (
    FAMILIES,
    SILENT_RATE_MODEL,
    backtest_cutoffs,
    cross_validate,
    fit_predict,
    plan_windows,
    silent_item_rate,
)
from nova_assets.lib.forecasting.panel import Panel
from nova_assets.lib.forecasting.statistical import MIN_POINTS
from tests.unit.forecast_data import history


def _nova(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="nova")
    add_forecast_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def _table(series: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = history(series, start="2020-01-01", freq="MS")
    return pd.DataFrame(
        {"item_id": frame["unique_id"], "month": frame["ds"].dt.strftime("%Y-%m"), "demand": frame["y"]}
    )


def test_every_item_gets_a_forecast_and_its_fallback_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    series = {f"old-{i}": rng.poisson(3, 40).astype(float) for i in range(8)}
    series |= {
        "new": np.array([2.0, 0.0, 4.0]),  # three months: shorter than a season + 1
        "dead": np.zeros(40),  # never any demand
        # silent until the last horizon, then 6 units: with "dead", the items silent a horizon ago
        "late": np.r_[np.zeros(34), [0.0, 2.0, 0.0, 0.0, 4.0, 0.0]],
        "young": rng.poisson(3, 16).astype(float),  # a season and more, fewer points than AutoETS needs in a window
    }
    # rows of an export that lists only the months with demand: a single sale, and a first sale this month
    sales_only = pd.DataFrame({"item_id": ["once", "first-sale"], "month": ["2021-04", "2023-04"], "demand": [3, 5]})
    path = tmp_path / "demand.csv"
    pd.concat([_table(series), sales_only]).to_csv(path, index=False)
    out = tmp_path / "forecast.csv"
    code = _nova(
        "forecast", "--input", str(path), "--freq", "M", "--horizon", "6", "--season", "12",
        "--families", "intermittent", "statistical", "--output", str(out),
    )  # fmt: skip
    assert code == 0
    table = pd.read_csv(out).set_index("item_id")
    assert table.groupby(level=0).size().to_dict() == dict.fromkeys([*series, "once", "first-sale"], 6)
    assert np.isfinite(table["ensemble"]).all() and (table["ensemble"] >= 0).all()
    fallback = table.groupby(level=0)["fallback"].first().fillna("")
    assert fallback["new"].startswith("shorter than a season + 1")
    assert table.loc["new", "ensemble"].tolist() == pytest.approx([2.0] * 6)  # the mean of its history
    # "once": one sale 25 months ago and none since (the gaps are no demand); "first-sale": this month's 5 units
    assert fallback["once"] == "" and table.loc["once", "ensemble"].max() < 1
    assert fallback["first-sale"].startswith("shorter than a season + 1")
    assert table.loc["first-sale", "ensemble"].tolist() == pytest.approx([5.0] * 6)
    # "dead" and "late" were silent 6 months ago; since then they sold 6 units in 2 x 6 item-months
    assert table.loc["dead", "ensemble"].tolist() == pytest.approx([0.5] * 6)
    assert fallback["dead"] == SILENT_REASON
    # no spread of its own: the quantiles of Poisson demand at that rate, per month and over the 6 months
    assert table.loc["dead", ["p50", "p90", "p95"]].drop_duplicates().to_numpy().tolist() == [[0, 1, 2]]
    assert table.loc["dead", "cum_p95"].tolist() == [2, 3, 4, 5, 5, 6]
    assert all(fallback[f"old-{i}"] == "" for i in range(8))
    err = capsys.readouterr().err
    assert "fallback for 2 item(s) (first-sale, new): shorter than a season + 1" in err
    assert f"fallback for 1 item(s) (dead): {SILENT_REASON}" in err


SILENT_REASON = "no demand yet: 0.5 per period, what the items without demand a horizon earlier sold since"


def test_an_item_without_demand_gets_what_the_items_as_silent_a_horizon_ago_sold_since() -> None:
    rng = np.random.default_rng(2)
    series = {
        "seller": rng.poisson(3, 24).astype(float),
        "dead": np.zeros(24),
        "woke": np.r_[np.zeros(10), 1.0, np.zeros(13)],  # had demand before the last horizon: not in the pool
        "newborn": np.zeros(4),  # started within the last horizon: not in the pool
    }
    frame = history(series | {"late": np.r_[np.zeros(18), [0.0, 2.0, 0.0, 0.0, 4.0, 0.0]]}, freq="MS")
    assert silent_item_rate(Panel.from_history(frame).values, horizon=6) == pytest.approx(6 / 12)
    baseline = fit_predict(frame, FAMILIES["baseline"], horizon=6, season=12, freq="M")
    silent = baseline[baseline["model"] == SILENT_RATE_MODEL]
    assert set(silent["unique_id"]) == {"dead"}  # the only series without demand and a season + 1 long
    assert silent["forecast"].tolist() == pytest.approx([0.5] * 6)
    # no item silent a horizon ago sold since: zero, as before
    quiet = fit_predict(history(series, freq="MS"), FAMILIES["baseline"], horizon=6, season=12, freq="M")
    rates = quiet.loc[quiet["model"] == SILENT_RATE_MODEL, "forecast"]
    assert len(rates) == 6 and (rates == 0).all()


def test_a_family_leaves_series_too_short_for_it_to_the_others() -> None:
    rng = np.random.default_rng(1)
    frame = history({"long": rng.poisson(4, 30).astype(float), "short": rng.poisson(4, MIN_POINTS - 1).astype(float)})
    statistical = fit_predict(frame, FAMILIES["statistical"], horizon=3, season=1, freq="D")
    assert set(statistical["unique_id"]) == {"long"}
    intermittent = fit_predict(frame, FAMILIES["intermittent"], horizon=3, season=1, freq="D")
    assert set(intermittent["unique_id"]) == {"long", "short"}


def test_a_table_too_short_for_any_backtest_window_still_forecasts(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    series = {f"i{i}": np.array([1.0, 3.0, 0.0, 2.0, 4.0]) * (i + 1) for i in range(10)}
    assert plan_windows(5, 3, 1) == (0, 2)
    path = tmp_path / "demand.csv"
    _table(series).to_csv(path, index=False)
    out = tmp_path / "forecast.csv"
    assert (
        _nova("forecast", "--input", str(path), "--freq", "M", "--horizon", "3", "--families", "intermittent",
              "--output", str(out))
        == 0
    )  # fmt: skip
    table = pd.read_csv(out)
    assert len(table) == 10 * 3
    # nothing to learn weights from: the historic average (2 x the item's number), not the last value (4 x)
    means = table["item_id"].str[1:].astype(int).add(1).mul(2.0)
    assert table["ensemble"].to_numpy() == pytest.approx(means.to_numpy())
    reason = "no backtest window to learn weights from: HistoricAverage"
    assert (table["fallback"] == reason).all()
    assert f"fallback for 10 item(s) (i0, i1, i2, i3, i4 ...): {reason}" in capsys.readouterr().err
    assert np.isfinite(table[["ensemble", "p50", "p90", "p95", "cum_p95"]]).all().all()
    assert (table["p90"] <= table["p95"]).all()


def test_auto_like_tables_with_the_default_windows_do_not_crash() -> None:
    """AUTO's shape (24 months, last 6 forecast): AutoETS once raised 'tiny datasets' on its first window."""
    rng = np.random.default_rng(2)
    frame = history({f"s{i}": rng.poisson(rng.uniform(0.5, 5), 18).astype(float) for i in range(12)}, freq="MS")
    windows, step = plan_windows(18, 6, 1)
    assert windows >= 2
    backtest = cross_validate(
        frame, FAMILIES["statistical"], horizon=6, season=1, n_windows=windows, freq="M", step=step
    )
    series = backtest.groupby("cutoff")["unique_id"].nunique()
    cutoffs = backtest_cutoffs(frame, 6, windows, step)
    assert series.reindex(cutoffs, fill_value=0).tolist() == [0] + [12] * (windows - 1)  # 6 points: too few for AutoETS
