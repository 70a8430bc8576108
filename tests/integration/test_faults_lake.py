"""Faults at a lake write: disk full, read-only folder, a writer killed mid-write.

A lake table is always either the old version or the new one; a failed write says which file and
why, and leaves no temporary behind. A disk-full tmpfs is not available here, so the error is
injected at the write (after half a file is on disk, as a real ENOSPC would leave it).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nova_assets.defs.ingest.holidays import holidays
from nova_assets.lib import lake
from nova_assets.lib.lake import LakeWriteError
from nova_assets.resources import SourcesResource
from nova_assets.services.local_stack import PROJECT_ROOT
from tests.integration.ingest_support import materialize

OLD = pd.DataFrame({"material_id": ["M1", "M2"], "quantity": [1.0, 2.0]})
NEW = pd.DataFrame({"material_id": ["M1", "M2", "M3"], "quantity": [5.0, 6.0, 7.0]})


def _fail_half_way(code: int):
    """A to_parquet that puts half a file on disk, then fails like the filesystem would."""

    def to_parquet(frame: pd.DataFrame, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1" + b"\0" * 4096)
        raise OSError(code, os.strerror(code))

    return to_parquet


def error_text(error: object) -> str:
    """A Dagster error's message and the messages of its causes."""
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if lake.PARTIAL_MARK in p.name)


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only filesystem"),
        (errno.EACCES, "may not write the data folder"),
    ],
)
def test_a_write_failing_half_way_keeps_the_old_table_and_says_why(tmp_path, monkeypatch, code, hint) -> None:
    lake.write_table(tmp_path, "raw", "erp_stock", OLD)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _fail_half_way(code))
    with pytest.raises(LakeWriteError) as failure:
        lake.write_table(tmp_path, "raw", "erp_stock", NEW)
    message = str(failure.value)
    assert str(lake.table_path(tmp_path, "raw", "erp_stock")) in message
    assert os.strerror(code) in message and hint in message
    assert "previous version is unchanged" in message
    assert failure.value.errno == code
    monkeypatch.undo()
    pd.testing.assert_frame_equal(lake.read_table(tmp_path, "raw", "erp_stock"), OLD)
    assert _leftovers(tmp_path / "raw") == []


def test_a_read_only_data_folder_fails_clearly_with_the_old_table_intact(tmp_path) -> None:
    lake.write_table(tmp_path, "raw", "erp_stock", OLD)
    folder = tmp_path / "raw"
    folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except PermissionError:
            pass
        else:  # root (or CAP_DAC_OVERRIDE) ignores permission bits: chmod cannot make it read-only
            probe.unlink()
            pytest.skip("permission bits do not stop this user (root); the injected EACCES/EROFS cases cover it")
        with pytest.raises(LakeWriteError, match=r"Permission denied.*may not write the data folder"):
            lake.write_table(tmp_path, "raw", "erp_stock", NEW)
        pd.testing.assert_frame_equal(lake.read_table(tmp_path, "raw", "erp_stock"), OLD)
        assert _leftovers(folder) == []
    finally:
        folder.chmod(0o755)


# Run in a child process: write the table, but stop for good just before the rename.
_KILLED_WRITER = """
import sys, time
from pathlib import Path
import pandas as pd
from nova_assets.lib import lake

def stop_before_rename(self, target):
    Path(sys.argv[2]).touch()
    time.sleep(600)

Path.replace = stop_before_rename
lake.write_table(Path(sys.argv[1]), "raw", "erp_stock", pd.DataFrame({"material_id": ["X"] * 100_000, "quantity": 1.0}))
"""


def test_a_writer_killed_mid_write_leaves_the_old_table_and_the_next_write_cleans_up(tmp_path) -> None:
    lake.write_table(tmp_path, "raw", "erp_stock", OLD)
    ready = tmp_path / "about-to-rename"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path), str(ready)], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert child.poll() is None, "the writer exited before reaching the rename"
            assert time.monotonic() < deadline, "the writer never reached the rename"
            time.sleep(0.05)
        orphans = _leftovers(tmp_path / "raw")
        assert orphans == [f"erp_stock.parquet{lake.PARTIAL_MARK}{child.pid}"]  # the new version, complete
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    pd.testing.assert_frame_equal(lake.read_table(tmp_path, "raw", "erp_stock"), OLD)

    lake.write_table(tmp_path, "raw", "erp_stock", NEW)  # the re-run
    pd.testing.assert_frame_equal(lake.read_table(tmp_path, "raw", "erp_stock"), NEW)
    assert _leftovers(tmp_path / "raw") == []


def test_a_raw_asset_on_a_full_disk_fails_naming_the_table_and_keeps_the_last_good_one(tmp_path, monkeypatch) -> None:
    sources = SourcesResource(
        landing_dir=str(tmp_path / "landing"), snapshot_dir=str(PROJECT_ROOT / "data" / "snapshots")
    )
    lake_dir = str(tmp_path / "lake")
    assert materialize([holidays], sources, lake_dir).success
    good = lake.read_table(Path(lake_dir), "raw", "holidays")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", _fail_half_way(errno.ENOSPC))
    result = materialize([holidays], sources, lake_dir)
    monkeypatch.undo()

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    text = error_text(failure.step_failure_data.error)
    assert "raw/holidays.parquet" in text and "No space left on device" in text and "the disk is full" in text
    pd.testing.assert_frame_equal(lake.read_table(Path(lake_dir), "raw", "holidays"), good)
    assert _leftovers(Path(lake_dir) / "raw") == []
