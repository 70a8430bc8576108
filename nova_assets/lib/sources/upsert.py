"""Merge a partition's rows into a stored raw table: one row per key, the most trusted one.

A daily partition fetches a few days (its day plus a lookback); the raw table holds years. Storing
the new days must not lose the others, and a stand-in used because the live source failed must never
overwrite data stored on a good day. Some tables also rank their sources (weather: the INMET yearly
files over the INMET API over Open-Meteo), whatever the order in which they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd


def upsert_rows(
    frames: Sequence[pd.DataFrame],
    key: str,
    *,
    rank_column: str | None = None,
    rank: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """One row per `key` from `frames`, sorted by key.

    For a key present in several frames, the row of the best rank wins (lowest `rank[row[rank_column]]`;
    values not in `rank` come last); among equal ranks, the row of the earlier frame wins. So callers
    list frames most trusted first: `[fetched, stored]` normally, `[stored, stand_in]` after a failure.
    """
    present = [frame for frame in frames if len(frame)]
    if not present:
        return frames[0].iloc[:0].reset_index(drop=True) if frames else pd.DataFrame()
    columns = list(present[0].columns)
    rows = pd.concat([frame.assign(_order=i) for i, frame in enumerate(present)], ignore_index=True)
    order = ["_order"]
    if rank_column is not None and rank is not None:
        rows["_rank"] = rows[rank_column].map(rank).fillna(len(rank))
        order = ["_rank", "_order"]
    best = rows.sort_values(order, kind="stable").drop_duplicates(key, keep="first")
    return best.sort_values(key, kind="stable")[columns].reset_index(drop=True)
