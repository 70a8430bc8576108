"""Parquet tables of the lake: atomic writes, so a crash never leaves half a file behind."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

PARTIAL_MARK = ".partial-"  # <name>.partial-<pid>: a file being written by process <pid>

_HINTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the data folder is on a read-only filesystem",
    errno.EACCES: "this user may not write the data folder",
    errno.EPERM: "this user may not write the data folder",
}


class LakeWriteError(OSError):
    """A file of the lake could not be written; the previous version (if any) is unchanged."""


def table_path(lake_dir: Path, layer: str, table: str) -> Path:
    return lake_dir / layer / f"{table}.parquet"


def bronze_dir(lake_dir: Path, *parts: str) -> Path:
    """The folder of a bronze store (landed files and answers kept as received, owned by their store)."""
    return lake_dir.joinpath("bronze", *parts)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`, renamed over it when the block succeeds.

    A reader sees the old file or the new one, never half of one. When the write fails (disk full,
    read-only folder) the temporary file is removed and a LakeWriteError says which file and why;
    temporaries left by killed processes are removed by the next write of the same file.
    """
    partial = path.with_name(f"{path.name}{PARTIAL_MARK}{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(path)
        yield partial
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        hint = _HINTS.get(exc.errno or 0)
        raise LakeWriteError(
            exc.errno,
            f"could not write {path}: {exc}" + (f" ({hint})" if hint else "") + "; the previous version is unchanged",
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _remove_orphans(path: Path) -> None:
    """Remove temporaries of `path` whose writing process is gone (killed mid-write)."""
    for orphan in path.parent.glob(f"{path.name}{PARTIAL_MARK}*"):
        pid = orphan.name.rsplit(PARTIAL_MARK, 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            orphan.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def write_table(lake_dir: Path, layer: str, table: str, frame: pd.DataFrame) -> Path:
    """Write `frame` as lake table `layer/table`, atomically (see `atomic_file`)."""
    path = table_path(lake_dir, layer, table)
    with atomic_file(path) as partial:
        frame.to_parquet(partial, index=False)
    return path


def publish_file(lake_dir: Path, layer: str, table: str, built: Path) -> Path:
    """Make the finished Parquet file `built` the lake table `layer/table`, atomically: a table written out
    of core (the ERP import) is moved into place, never read back into memory."""
    path = table_path(lake_dir, layer, table)
    with atomic_file(path) as partial:
        shutil.move(str(built), partial)
    return path


def write_json(lake_dir: Path, layer: str, name: str, value: object) -> Path:
    """Write `value` as JSON file `layer/name.json`, atomically (small state beside the tables)."""
    path = lake_dir / layer / f"{name}.json"
    with atomic_file(path) as partial:
        partial.write_text(json.dumps(value))
    return path


def read_json(lake_dir: Path, layer: str, name: str) -> object:
    path = lake_dir / layer / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"lake file {layer}/{name}.json not found at {path}: materialize it first")
    return json.loads(path.read_text())


# pyarrow's row filters in disjunctive normal form, e.g. [("movement_type", "==", "issue")]
RowFilters = list[tuple[str, str, object]]


def read_table(
    lake_dir: Path, layer: str, table: str, columns: list[str] | None = None, filters: RowFilters | None = None
) -> pd.DataFrame:
    """The table, or only `columns` of it (the others are not read), or only the rows that match
    `filters` (the row groups whose statistics exclude them are not read: the ERP movements, sorted by
    date, are read from a day on without the years before)."""
    return pd.read_parquet(_existing(lake_dir, layer, table), columns=columns, filters=filters)


ROW_NUMBER = "file_row_number"  # a scanned row's position in its table, as DuckDB names it


def scan_table(con: duckdb.DuckDBPyConnection, lake_dir: Path, layer: str, table: str) -> duckdb.DuckDBPyRelation:
    """The table as a lazy DuckDB relation, with each row's position in ROW_NUMBER: a query on it reads
    only the columns it names and skips the row groups its filters exclude, in parallel and outside
    pandas (an aggregation over millions of rows returns only its result to Python)."""
    return con.read_parquet(str(_existing(lake_dir, layer, table)), file_row_number=True)


def table_rows(lake_dir: Path, layer: str, table: str) -> int:
    """The table's row count, from its Parquet footer (no data read)."""
    return pq.read_metadata(_existing(lake_dir, layer, table)).num_rows


def table_columns(lake_dir: Path, layer: str, table: str) -> list[str]:
    """The table's column names, from its Parquet schema (no data read)."""
    return pq.read_schema(_existing(lake_dir, layer, table)).names


def _existing(lake_dir: Path, layer: str, table: str) -> Path:
    path = table_path(lake_dir, layer, table)
    if not path.exists():
        raise FileNotFoundError(f"lake table {layer}/{table} not found at {path}: materialize it first")
    return path
