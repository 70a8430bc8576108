"""Parquet tables of the lake: atomic writes, so a crash never leaves half a file behind."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def table_path(lake_dir: Path, layer: str, table: str) -> Path:
    return lake_dir / layer / f"{table}.parquet"


def write_table(lake_dir: Path, layer: str, table: str, frame: pd.DataFrame) -> Path:
    """Write to a temporary file and rename it over the old one (atomic on one filesystem)."""
    path = table_path(lake_dir, layer, table)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".parquet.tmp-{os.getpid()}")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_table(lake_dir: Path, layer: str, table: str) -> pd.DataFrame:
    path = table_path(lake_dir, layer, table)
    if not path.exists():
        raise FileNotFoundError(f"lake table {layer}/{table} not found at {path}: materialize it first")
    return pd.read_parquet(path)
