"""`nova evaluate`: the stage and the policy on a dev set at rolling origins, one table per set, logged to
MLflow; bad set specifications are named without a traceback."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from nova_assets.forecast_cli import EXIT_BAD_INPUT, add_forecast_commands
from nova_assets.lib.evaluation.datasets import DevSet, default_split, load_set
from nova_assets.lib.evaluation.policy_grid import policy_grid
from nova_assets.lib.evaluation.report import model_table
from nova_assets.lib.evaluation.runner import ENSEMBLE, MEMBER, evaluate_forecast, origins
from nova_assets.lib.experiments import EVALUATION_EXPERIMENT
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.inventory.demand_table import to_matrix
from nova_assets.lib.long_table import read_long_table
from nova_assets.lib.sample import SYNTHETIC_MARKER


def _nova(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="nova")
    add_forecast_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def _monthly(path: Path, items: int = 16, months: int = 40, silent: int = 0) -> Path:
    """`items` Poisson series, then `silent` without any demand."""
    rng = np.random.default_rng(0)
    rates = np.r_[rng.uniform(0.2, 3.0, items), np.zeros(silent)]
    rows = [
        {"item_id": f"P{i:02d}", "date": d.strftime("%Y-%m-01"), "demand": float(rng.poisson(rate))}
        for i, rate in enumerate(rates)
        for d in pd.date_range("2019-01-01", periods=months, freq="MS")
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_default_splits_reproduce_the_eval_readme() -> None:
    assert default_split(51, "M") == (12, 12)  # carparts: last 12 months, season 12
    assert default_split(24, "M") == (6, 1)  # AUTO: last 6 months, no season
    assert default_split(1096, "D") == (30, 7)  # the synthetic sample: the cycle's horizon, weekly season


def test_a_table_in_or_below_the_samples_marked_folder_is_synthetic(tmp_path: Path) -> None:
    """The generator writes its note at the top of the folder it fills and its tables into subfolders."""
    plain = load_set(str(_monthly(tmp_path / "parts.csv")))
    landing = tmp_path / "landing"
    (landing / "erp").mkdir(parents=True)
    (landing / SYNTHETIC_MARKER).write_text("generated")
    beside = load_set(str(_monthly(landing / "parts.csv")))
    below = load_set(str(_monthly(landing / "erp" / "parts.csv")))
    assert not plain.synthetic and beside.synthetic and below.synthetic and load_set("sample:h=30").synthetic
    assert below.described == f"SYNTHETIC: {landing / 'erp' / 'parts.csv'}" and plain.described == str(plain.source)


def test_origins_end_with_the_standard_split() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2020-01-01", periods=40, freq="MS"), "y": 1.0})
    cutoffs = origins(frame, horizon=12, n_origins=3, step=6)
    assert cutoffs[-1] == frame["ds"].iloc[-13]  # the last 12 months held out
    assert [c.month for c in cutoffs] == [4, 10, 4]


def test_evaluate_prints_one_table_per_set_and_logs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("NOVA_MLFLOW_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    path = _monthly(tmp_path / "parts.csv", silent=1)
    out = tmp_path / "evaluation"
    code = _nova("evaluate", f"{path}:h=6,m=1", "--origins", "2", "--families", "intermittent", "--output", str(out))
    assert code == 0
    printed = capsys.readouterr().out
    for heading in ("## parts", "### Rolling origins (2", "### Standard split", "### Stock policy", "Ensemble"):
        assert heading in printed
    # a file is named by its path, not vouched for as real
    assert f"\n{path}; 17 series x 40 periods" in printed and "SYNTHETIC" not in printed
    for model in ("ADIDA", "HistoricAverage", "ref:CrostonSBA", "ref:Zero"):
        assert model in printed
    standard = pd.read_csv(out / "parts_standard.csv").set_index("model")
    assert {"Ensemble", "ADIDA", "HistoricAverage", "ref:HistoricAverage", "ref:CrostonSBA"} <= set(standard.index)
    assert "Zero" not in standard.index and "ref:Zero" in standard.index  # never weighted: not a member
    assert "SilentRate" not in standard.index  # the rule of the item without demand, in the Ensemble row
    assert np.isfinite(standard.loc["Ensemble", ["mase", "rmsse", "bias"]].astype(float)).all()
    assert (
        standard.loc["Ensemble", "d_rmsse"] == 0
        and np.isfinite(standard.loc["ADIDA", ["d_rmsse", "z"]].astype(float)).all()
    )
    # the weights the held-out periods would have asked for: no member and not the ensemble beat them there
    assert "hindsight:Weights" in printed
    hindsight = standard.loc["hindsight:Weights"]
    assert hindsight["role"] == "hindsight"
    members = standard[standard["role"].isin(["member", "ensemble"])]
    assert hindsight["rmsse"] <= members["rmsse"].min() + 1e-9
    # the member and the reference computed on the same series and split agree
    assert standard.loc["HistoricAverage", "rmsse"] == pytest.approx(standard.loc["ref:HistoricAverage", "rmsse"])
    policy = pd.read_csv(out / "parts_policy.csv")
    assert set(policy["lead_time"]) == {1, 2, 3} and set(policy["target"]) == {0.9, 0.95, 0.98}
    assert set(policy["measure"]) == {"csl", "fill_rate"} and len(policy) == 18
    # the bench's path (the raw table as `nova policy-backtest` reads it) gives the same figures
    bench = policy_grid(to_matrix(read_long_table(path), "M"), "M", [2.0], [0.95], ["csl"]).iloc[0]
    row = policy[(policy["lead_time"] == 2) & (policy["measure"] == "csl") & (policy["target"] == 0.95)].iloc[0]
    for column in ("project_csl", "project_fill", "project_on_hand", "baseline_csl", "baseline_on_hand"):
        assert row[column] == pytest.approx(bench[column])
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(EVALUATION_EXPERIMENT)
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["horizon"] == "6" and run.data.params["season"] == "1"
    assert run.data.tags["nova.data"] == str(path)  # a file outside the sample's folder: no SYNTHETIC
    assert "standard.Ensemble.rmsse" in run.data.metrics
    assert run.data.metrics["standard.hindsight:Weights.rmsse"] == pytest.approx(hindsight["rmsse"])
    assert run.data.metrics["standard.ADIDA.z"] == pytest.approx(standard.loc["ADIDA", "z"])
    assert "policy.project.L2.csl95.cycle_service_level" in run.data.metrics


def test_a_set_without_demand_is_forecast_and_its_policy_named_as_not_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = _monthly(tmp_path / "silent.csv", items=0, silent=3)
    out = tmp_path / "evaluation"
    code = _nova(
        "evaluate", f"{path}:h=6,m=1", "--origins", "1", "--families", "intermittent", "--output", str(out),
        "--no-mlflow",
    )  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert "silent: stock policy not replayed: no item has a period to measure" in captured.err
    assert "### Standard split" in captured.out and "### Stock policy" not in captured.out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing.csv", "does not exist"),
        ("{path}:h=zero", "h='zero' must be a whole number"),
        ("{path}:q=1", "bad set option"),
        ("{path}:h=11", "parts: 12 periods; a hold-out window of 11 needs at least 13 (two periods of history"),
    ],
)
def test_bad_sets_are_named(tmp_path: Path, capsys: pytest.CaptureFixture, spec: str, message: str) -> None:
    path = _monthly(tmp_path / "parts.csv", items=2, months=12)
    assert _nova("evaluate", spec.format(path=path), "--no-mlflow", "--output", str(tmp_path)) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_sets_are_read_with_their_frequency(tmp_path: Path) -> None:
    devset = load_set(str(_monthly(tmp_path / "parts.csv", items=3, months=30)))
    assert (devset.freq, devset.horizon, devset.season, devset.synthetic) == ("M", 7, 1, False)
    assert devset.history["unique_id"].nunique() == 3 and devset.periods == 30


def test_a_member_without_forecasts_at_an_origin_is_scored_on_the_ensemble_there() -> None:
    # 24 months, as AUTO: at the first origin (12 months) no series is old enough for the capped
    # AutoARIMA (models.capped_min_points: 8 points + the horizon), at the next two every one is
    rng = np.random.default_rng(0)
    dates = pd.date_range("2000-01-01", periods=24, freq="MS")
    frame = pd.concat(
        [pd.DataFrame({"unique_id": f"S{i}", "ds": dates, "y": rng.poisson(20, 24).astype(float)}) for i in range(6)]
    )
    devset = DevSet("parts", frame, "M", horizon=6, season=1, synthetic=True, source="test")
    families = [FAMILIES["baseline"], FAMILIES["statistical"]]
    results = evaluate_forecast(devset, families, n_origins=3, step=3, n_windows=None, n_jobs=1, progress=print)
    assert [r.error for r in results] == [None, None, None]
    first, *later = (r.predictions.set_index(["unique_id", "ds", "model"]) for r in results)
    arima = first.xs("AutoARIMA", level="model")
    assert len(arima) == 6 * 6 and not arima["own"].any()  # every window, none its own
    assert arima["forecast"].equals(first.xs("Ensemble", level="model")["forecast"])
    assert all(p.xs("AutoARIMA", level="model")["own"].all() for p in later)


def test_each_model_is_compared_with_the_ensemble_window_by_window() -> None:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2020-01-01", periods=30, freq="MS")
    demand = {f"S{i}": rng.poisson(5, 30).astype(float) for i in range(8)} | {"silent": np.zeros(30)}
    history = pd.concat([pd.DataFrame({"unique_id": uid, "ds": dates, "y": y}) for uid, y in demand.items()])
    rows = []
    for cutoff in dates[[17, 23]]:
        held = history[(history["ds"] > cutoff) & (history["ds"] <= cutoff + pd.DateOffset(months=6))]
        ensemble = held["y"].to_numpy() + rng.normal(0, 2, len(held))
        forecasts = {"Ensemble": ensemble, "Exact": held["y"].to_numpy(), "Same": ensemble, "Worse": ensemble + 3}
        for model, forecast in forecasts.items():
            role = ENSEMBLE if model == "Ensemble" else MEMBER
            # the ensemble's rule stands in for the members on the series without demand
            own = (held["unique_id"] != "silent").to_numpy() | (role == ENSEMBLE)
            rows.append(held.assign(cutoff=cutoff, model=model, forecast=forecast, role=role, own=own))
    table = model_table(pd.concat(rows, ignore_index=True), history, season=1).set_index("model")
    # the series without demand has no RMSSE: a member that forecasts every other one is a full member
    assert table.loc["Exact", "own_share"] == 1.0
    assert table.loc["Same", ["d_rmsse", "z"]].tolist() == [0.0, 0.0]
    # every window is defined: the mean paired difference is the difference of the mean RMSSEs
    for model in ("Exact", "Worse"):
        d = table.loc[model, "rmsse"] - table.loc["Ensemble", "rmsse"]
        assert table.loc[model, "d_rmsse"] == pytest.approx(d)
    assert table.loc["Exact", "z"] < -2 < 2 < table.loc["Worse", "z"]
