"""The daily demand history every layer works from, the cycle day it ends on, and the day the cycle's
backtests (of the forecast and of the stock policy) end on."""

from collections.abc import Callable, Mapping
from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa


def history_from_demand(
    con: duckdb.DuckDBPyConnection,
    demand: duckdb.DuckDBPyRelation,
    successors: Mapping[str, str],
    keep: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """Daily demand per material (a relation of material_id, date, demand) in the statsforecast long
    format (unique_id, ds, y), sorted by both: a superseded part's demand added to its final successor's
    on the same dates (the predecessors leave the panel). With `keep`, only the successors it accepts
    (a material group), their predecessors included.

    Summed and sorted in DuckDB, where the lake's table is stored: only the result becomes pandas."""
    moves = pa.table(
        {
            "material_id": pa.array(list(successors), pa.string()),
            "successor": pa.array(list(successors.values()), pa.string()),
        }
    )
    con.register("history_demand", demand)
    con.register("history_successors", moves)
    chosen = ""
    if keep is not None:
        ids = [m for (m,) in con.sql("SELECT DISTINCT material_id FROM history_demand").fetchall()]
        members = pa.table({"material_id": pa.array([m for m in ids if keep(successors.get(m, m))], pa.string())})
        con.register("history_members", members)
        chosen = "WHERE d.material_id IN (SELECT material_id FROM history_members)"
    history = con.sql(
        "SELECT coalesce(s.successor, d.material_id) AS unique_id, CAST(d.date AS TIMESTAMP) AS ds,"
        " sum(d.demand) AS y"
        " FROM history_demand d LEFT JOIN history_successors s ON s.material_id = d.material_id"
        f" {chosen} GROUP BY ALL ORDER BY unique_id, ds"
    ).to_arrow_table()
    return history.to_pandas().astype({"unique_id": object, "ds": "datetime64[ns]", "y": float})


def cycle_date(days: pd.Series) -> date:
    """The cycle's day: the last day of the demand history (forecasts start the day after)."""
    return pd.to_datetime(days).max().date()


BACKTEST_EPOCH = date(2024, 1, 1)  # a Monday: with a 7-day cadence, the backtests end on Mondays


def backtest_through(cycle_day: date, every_days: int) -> date:
    """The last day of the cycle's backtests (NOVA_BACKTEST_EVERY_DAYS): the latest day on or before
    the cycle's that is a whole number of `every_days` after BACKTEST_EPOCH (the cycle's own day with 1).

    A fixed calendar, so every forecast family and the policy backtest of a cycle replay the same
    days without sharing any state, and the ensemble compares its members on the same windows."""
    return cycle_day - timedelta(days=(cycle_day - BACKTEST_EPOCH).days % every_days)
