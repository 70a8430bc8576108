"""The dev sets an evaluation runs on: any demand table given by path, or the synthetic sample.

A set is named on the command line as `PATH` or `sample`, optionally followed by settings,
`PATH:h=6,m=1` (h: horizon, m: season, f: frequency D/W/M). Unset, the frequency is inferred from
the dates, the horizon is the frequency's usual one (D 30, W 13, M 12) but at most a quarter of the
history, and the season is the frequency's (D 7, W 52, M 12) only when the history holds three
seasons besides the horizon, else 1 (no season: MASE is then scaled by one-step naive errors).
These defaults reproduce the standard splits of the shared eval README (carparts: last 12 months,
season 12; AUTO: last 6 months, season 1).

A file is not known to be real: a report names it by its path, and calls it SYNTHETIC when it lies in
a folder marked as holding the sample, or below one (lib.sample.SYNTHETIC_MARKER).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from nova_assets.lib.forecasting.demand_input import read_demand
from nova_assets.lib.forecasting.panel import default_season
from nova_assets.lib.long_table import InputError
from nova_assets.lib.sample import from_sample

SAMPLE = "sample"
DEFAULT_HORIZON = {"D": 30, "W": 13, "M": 12}
# The synthetic sample as the daily cycle generates it by default (300 materials, 3 years), on a fixed
# calendar so that every evaluation sees the same data.
SAMPLE_MATERIALS = 300
SAMPLE_START, SAMPLE_END = date(2022, 11, 1), date(2025, 10, 31)
SAMPLE_SEED = 42


@dataclass(frozen=True)
class DevSet:
    """One evaluation data set: its regular history and the split it is scored on."""

    name: str
    history: pd.DataFrame  # unique_id, ds, y; regular periods
    freq: str
    horizon: int
    season: int
    synthetic: bool  # the generated sample, or a file in (or below) a folder marked as holding it
    source: str

    @property
    def periods(self) -> int:
        return int(self.history["ds"].nunique())

    @property
    def described(self) -> str:
        """Where the set comes from, SYNTHETIC first when it is (the report's header, the MLflow `nova.data`
        tag, like the daily cycle's)."""
        return ("SYNTHETIC: " if self.synthetic else "") + self.source


def _options(text: str) -> dict[str, str]:
    options = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep or key not in {"h", "m", "f"}:
            raise InputError(f"bad set option {part!r}: use h=HORIZON, m=SEASON, f=D|W|M")
        options[key] = value
    return options


def _number(options: dict[str, str], key: str) -> int | None:
    if key not in options:
        return None
    if not options[key].isdigit() or int(options[key]) < 1:
        raise InputError(f"{key}={options[key]!r} must be a whole number of at least 1")
    return int(options[key])


def default_split(periods: int, freq: str) -> tuple[int, int]:
    """(horizon, season) for a history of `periods` periods of `freq` (see the module docstring)."""
    horizon = max(1, min(DEFAULT_HORIZON[freq], periods // 4))
    return horizon, default_season(freq, periods, horizon)


def load_set(spec: str) -> DevSet:
    """The dev set named by `spec` (`PATH[:options]` or `sample[:options]`); InputError if unusable."""
    target, _, text = spec.partition(":")
    options = _options(text)
    if target == SAMPLE:
        freq, name, history, synthetic, source = (
            "D",
            SAMPLE,
            synthetic_sample(),
            True,
            "the sample business of lib/sample/erp_generator.py",
        )
        if options.get("f", "D") != "D":
            raise InputError("the synthetic sample is daily (f=D)")
    else:
        path = Path(target)
        history, freq = read_demand(path, options.get("f") or None)
        name, synthetic, source = path.stem, from_sample(path), str(path)
    periods = int(history["ds"].nunique())
    horizon, season = default_split(periods, freq)
    horizon = _number(options, "h") or horizon
    season = _number(options, "m") or season
    if periods <= horizon + 1:
        raise InputError(
            f"{name}: {periods} periods; a hold-out window of {horizon} needs at least {horizon + 2} "
            "(two periods of history before it)"
        )
    return DevSet(name, history, freq, horizon, season, synthetic, source)


def synthetic_sample(
    n_materials: int = SAMPLE_MATERIALS, start: date = SAMPLE_START, end: date = SAMPLE_END, seed: int = SAMPLE_SEED
) -> pd.DataFrame:
    """Daily demand (issues summed over sites) of the SYNTHETIC sample business, every material every day."""
    from nova_assets.lib.sample.erp_generator import generate_sample_business
    from nova_assets.lib.sources.holidays_calendar import build_holidays

    holidays = set(build_holidays(range(start.year, end.year + 1))["date"])
    with tempfile.TemporaryDirectory() as folder:
        written = generate_sample_business(
            Path(folder), n_materials=n_materials, start=start, end=end, seed=seed, holidays=holidays
        )
        movements = pd.read_csv(
            written["movements"], usecols=["movement_date", "material_id", "movement_type", "quantity"]
        )
        materials = pd.read_csv(written["materials"], usecols=["material_id"])["material_id"]
    issues = movements[movements["movement_type"] == "issue"]
    daily = issues.groupby(["material_id", "movement_date"])["quantity"].sum()
    days = pd.date_range(start, end, freq="D")
    grid = pd.MultiIndex.from_product([materials, days.strftime("%Y-%m-%d")], names=["material_id", "movement_date"])
    dense = daily.reindex(grid, fill_value=0).reset_index()
    return pd.DataFrame(
        {
            "unique_id": dense["material_id"].astype(str),
            "ds": pd.to_datetime(dense["movement_date"]),
            "y": dense["quantity"].astype(float),
        }
    )
