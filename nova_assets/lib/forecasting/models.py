"""Model families and how to fit them: statsforecast does the statistics, we only route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA, SeasonalNaive

ZERO_MODEL = "Zero"


@dataclass(frozen=True)
class ModelFamily:
    """A group of models fitted together and tracked as one MLflow run."""

    name: str
    description: str
    build: Callable[[int], list]
    include_zero: bool = False


FAMILIES: dict[str, ModelFamily] = {
    "intermittent": ModelFamily(
        name="intermittent",
        description="Croston SBA, TSB, ADIDA and IMAPA: methods made for many-zero demand",
        build=lambda season: [CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA()],
    ),
    "baseline": ModelFamily(
        name="baseline",
        description="seasonal naive and the all-zero forecast: what any model must beat",
        build=lambda season: [SeasonalNaive(season_length=season)],
        include_zero=True,
    ),
}


def _engine(family: ModelFamily, season: int, n_jobs: int) -> StatsForecast:
    return StatsForecast(models=family.build(season), freq="D", n_jobs=n_jobs)


def _to_long(wide: pd.DataFrame, id_vars: list[str], family: ModelFamily) -> pd.DataFrame:
    if family.include_zero:
        wide = wide.assign(**{ZERO_MODEL: 0.0})
    model_columns = [c for c in wide.columns if c not in id_vars and c != "y"]
    keep = [*id_vars, "y"] if "y" in wide.columns else id_vars
    long = wide.melt(id_vars=keep, value_vars=model_columns, var_name="model", value_name="forecast")
    long["forecast"] = long["forecast"].clip(lower=0.0).fillna(0.0)
    return long


def fit_predict(history: pd.DataFrame, family: ModelFamily, horizon: int, season: int, n_jobs: int = 1) -> pd.DataFrame:
    """Fit on all of `history` (unique_id, ds, y) and forecast `horizon` days: long frame."""
    wide = _engine(family, season, n_jobs).forecast(df=history, h=horizon)
    return _to_long(wide.reset_index(drop="unique_id" not in wide.index.names), ["unique_id", "ds"], family)


def cross_validate(
    history: pd.DataFrame, family: ModelFamily, horizon: int, season: int, n_windows: int, n_jobs: int = 1
) -> pd.DataFrame:
    """Rolling-origin forecasts: each window is fitted only on data up to its cutoff."""
    wide = _engine(family, season, n_jobs).cross_validation(
        df=history, h=horizon, n_windows=n_windows, step_size=horizon
    )
    return _to_long(wide.reset_index(drop="unique_id" not in wide.index.names), ["unique_id", "ds", "cutoff"], family)
