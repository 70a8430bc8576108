"""The demand panel every family works on: regular periods, one matrix row per series, a scale per series.

History frames are long (unique_id, ds, y). The global models (gradient boosting, LSTM) work on a
matrix aligned on the last period, with NaN before a series starts; statistical ones take the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.long_table import PERIODS

DEFAULT_SEASON = {"D": 7, "W": 52, "M": 12}
PERIODS_PER_YEAR = {"D": 365.25, "W": 365.25 / 7, "M": 12.0}
SEASONS_NEEDED = 3  # a seasonal model wants three seasons of history besides the horizon
# Advance demand information: demand lines known before they happen (e.g. the parts of planned
# preventive orders), each due on `ds`, known from `known_from` (NaT: always) and pending until
# `known_until` (done then; NaT: still pending). A forecast from an origin counts only the lines known
# and pending there, so a backtest window sees the plan as it stood at its cutoff.
ADVANCE_DEMAND_COLUMNS = ["unique_id", "ds", "known_from", "known_until", "quantity"]


def default_season(freq: str, periods: int, horizon: int) -> int:
    """The frequency's season (D 7, W 52, M 12) when `periods` hold SEASONS_NEEDED of them besides
    the horizon, else 1: two years of months cannot tell a yearly cycle from noise."""
    season = DEFAULT_SEASON[freq]
    return season if periods - horizon >= SEASONS_NEEDED * season else 1


def pandas_freq(freq: str, dates: pd.Series | pd.DatetimeIndex) -> str:
    """The pandas alias for our D/W/M: months are month starts, weeks keep the weekday of the data."""
    if freq == "D":
        return "D"
    if freq == "M":
        return "MS"
    if freq == "W":
        return f"W-{pd.Timestamp(pd.Series(dates).max()).day_name()[:3].upper()}"
    raise ValueError(f"unknown frequency {freq!r}; expected one of {tuple(PERIODS)}")


def regularise(history: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Every series gets every period from its first one to the panel's last one; gaps mean no demand.

    Rows sorted by series and period; rows of the same series and period are summed, a date off the
    frequency's calendar (a weekly table's other weekday) is dropped, as the calendar's reindex drops it."""
    alias = pandas_freq(freq, history["ds"])
    summed = history.groupby(["unique_id", "ds"], sort=True)["y"].sum()
    calendar = pd.date_range(history["ds"].min(), history["ds"].max(), freq=alias)
    first = summed.index.to_frame(index=False).groupby("unique_id", sort=True)["ds"].min()
    start = calendar.searchsorted(first.to_numpy())  # each series' first period on the calendar
    counts = len(calendar) - start
    ends = np.cumsum(counts)
    position = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts - start, counts)
    grid = pd.MultiIndex.from_arrays([np.repeat(first.index.to_numpy(), counts), calendar[position]])
    y = summed.reindex(grid, fill_value=0.0).to_numpy(dtype=float)
    return pd.DataFrame({"unique_id": grid.get_level_values(0), "ds": grid.get_level_values(1), "y": y})


def period_labels(dates: pd.Series, freq: str, alias: str) -> pd.Series:
    """The label of the panel period holding each date: the day (D), the month start (M), the week's
    last day (W, `alias` W-XXX as pandas_freq gives it)."""
    dates = pd.to_datetime(dates)
    if freq == "D":
        return dates.dt.normalize()
    if freq == "M":
        return dates.dt.to_period("M").dt.start_time
    return dates.dt.to_period(alias).dt.end_time.dt.normalize()


def future_dates(last: pd.Timestamp, horizon: int, freq: str) -> pd.DatetimeIndex:
    """The `horizon` periods after `last`."""
    alias = pandas_freq(freq, pd.DatetimeIndex([last]))
    return pd.date_range(last, periods=horizon + 1, freq=alias)[1:]


@dataclass(frozen=True)
class FitSpec:
    """What every family's forecaster is told besides the history."""

    horizon: int
    season: int
    freq: str = "D"
    n_jobs: int = 1
    seed: int = 0
    regressors: pd.DataFrame | None = None  # ds + numeric columns known over history and horizon
    # What a family keeps between the fits of one run (backtest windows in time order, then the final
    # fit), e.g. the model forms statistical searched on the first window; None: nothing is kept.
    memo: dict | None = None
    # Per-series models that cost most fit only this many series, those with the most demand (None: all).
    max_series: int | None = None
    # ... and only series with at least this many observations (models.capped_min_points: in a final
    # fit, those with the history the last backtest window fitted).
    capped_min_points: int = 0

    def top_series(self, history: pd.DataFrame) -> set:
        """The `max_series` series of `history` with the most demand (all of them without a cap) among
        those with `capped_min_points` observations.

        Chosen again at every fit among the series the family is given there (their demand class
        may change between windows); the ensemble learns weights for the rows it covers (see ensemble)."""
        by_series = history.groupby("unique_id")["y"]
        volume = by_series.sum()[by_series.size() >= self.capped_min_points]
        return set(volume.index if self.max_series is None else volume.nlargest(self.max_series).index)


@dataclass(frozen=True)
class Panel:
    """Series as rows of a matrix aligned on the last period (NaN before a series starts)."""

    ids: np.ndarray
    dates: pd.DatetimeIndex
    values: np.ndarray

    @classmethod
    def from_history(cls, history: pd.DataFrame) -> Panel:
        """The long (unique_id, ds, y) history as a panel: ids and dates sorted, NaN where a series has
        no row. A (unique_id, ds) pair given twice is an error, as in a pivot."""
        rows, ids = pd.factorize(history["unique_id"], sort=True)
        columns, dates = pd.factorize(history["ds"], sort=True)
        cells = rows * len(dates) + columns
        if len(cells) and np.bincount(cells).max() > 1:
            raise ValueError("Index contains duplicate entries, cannot reshape")
        values = np.full((len(ids), len(dates)), np.nan)
        values[rows, columns] = history["y"].to_numpy(float)
        return cls(ids=np.asarray(ids, dtype=object), dates=pd.DatetimeIndex(dates, name="ds"), values=values)

    def origin_scales(self) -> np.ndarray:
        """(n, periods): mean non-zero demand up to and including each period (NaN before the first).

        Global models divide a sample by the scale known at its origin. A scale taken over the whole
        history leaks the future into training: with it the past mean size tells the model whether
        more demand is still to come, and the final forecasts collapse toward zero.
        """
        positive = self.values > 0  # NaN compares False
        total = np.cumsum(np.where(positive, self.values, 0.0), axis=1)
        count = np.cumsum(positive, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)


@dataclass(frozen=True)
class SeriesCodes:
    """The series ids numbered in their sorted order. Long frames with the codes in place of the ids
    sort, group and join in the same order as with the ids, without hashing every string again in each
    groupby, pivot and isin: frames are coded once after reading and decoded for the output."""

    ids: pd.Index

    @classmethod
    def coding(cls, *frames: pd.DataFrame) -> tuple[SeriesCodes, list[pd.DataFrame]]:
        """The codes of the ids in `frames` and the frames with unique_id coded."""
        factorized = [pd.factorize(frame["unique_id"]) for frame in frames]
        ids = pd.Index(pd.unique(np.concatenate([np.asarray(uniques) for _, uniques in factorized]))).sort_values()
        coded = [
            frame.assign(unique_id=ids.get_indexer(uniques)[codes])
            for frame, (codes, uniques) in zip(frames, factorized, strict=True)
        ]
        return cls(ids), coded

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with its coded unique_id back to the ids."""
        return frame.assign(unique_id=self.ids.to_numpy()[frame["unique_id"].to_numpy()])


def long_forecast(ids: np.ndarray, dates: pd.DatetimeIndex, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long frame (unique_id, ds, model, forecast) from one (series x horizon) matrix per model."""
    frames = [
        pd.DataFrame(
            {
                "unique_id": np.repeat(ids, len(dates)),
                "ds": np.tile(dates, len(ids)),
                "model": model,
                "forecast": matrix.reshape(-1),
            }
        )
        for model, matrix in forecasts.items()
    ]
    return pd.concat(frames, ignore_index=True)
