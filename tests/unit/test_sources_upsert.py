"""Merging a partition's rows into the stored raw table: other days kept, trust decides per day."""

from __future__ import annotations

from datetime import date

import pandas as pd

from nova_assets.lib.sources.upsert import upsert_rows
from nova_assets.lib.sources.weather import SOURCE_PRECEDENCE


def days(values: dict[int, float], source: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"date": [date(2025, 11, d) for d in values], "value": list(values.values()), "source": source})


def test_fetched_days_replace_stored_ones_and_the_others_stay() -> None:
    stored = days({1: 1.0, 2: 2.0, 3: 3.0})
    fetched = days({3: 30.0, 4: 40.0})
    merged = upsert_rows([fetched, stored], "date")
    assert merged["value"].tolist() == [1.0, 2.0, 30.0, 40.0]
    assert merged.columns.tolist() == ["date", "value", "source"]


def test_a_stand_in_listed_last_only_fills_missing_days() -> None:
    stored = days({1: 1.0, 2: 2.0})
    snapshot = days({1: 9.0, 2: 9.0, 3: 3.0})
    assert upsert_rows([stored, snapshot], "date")["value"].tolist() == [1.0, 2.0, 3.0]


def test_the_better_source_wins_whatever_the_order() -> None:
    model = days({1: 20.0, 2: 21.0}, "open-meteo")
    station = days({2: 25.0}, "inmet")
    archive = days({2: 26.0, 3: 27.0}, "inmet-historical")
    for frames in ([model, station, archive], [archive, station, model], [station, model, archive]):
        merged = upsert_rows(frames, "date", rank_column="source", rank=SOURCE_PRECEDENCE)
        assert merged[["value", "source"]].values.tolist() == [
            [20.0, "open-meteo"],
            [26.0, "inmet-historical"],
            [27.0, "inmet-historical"],
        ]


def test_nothing_to_merge_keeps_the_columns() -> None:
    empty = days({}).iloc[:0]
    assert upsert_rows([empty], "date").columns.tolist() == ["date", "value", "source"]
