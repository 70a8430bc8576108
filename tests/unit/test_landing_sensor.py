"""The landing sensor asks for a cycle when an ERP export arrives or changes, and only then."""

import os
from pathlib import Path

import dagster as dg

from nova_assets.defs.automation.sensors import erp_landing_sensor
from nova_assets.resources import SourcesResource


def _evaluate(sources: SourcesResource, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"sources": sources})
    return erp_landing_sensor(context), context.cursor


def test_new_and_changed_files_request_a_run_once(tmp_path: Path) -> None:
    erp = tmp_path / "landing" / "erp"
    erp.mkdir(parents=True)
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))

    result, cursor = _evaluate(sources, None)
    assert isinstance(result, dg.SkipReason)

    (erp / "movimentos_2025-11-10.csv").write_text("data;material;deposito;quantidade\n")
    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.RunRequest)
    assert "movimentos_2025-11-10.csv" in result.tags["nova/files"]
    assert result.partition_key is not None

    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.SkipReason)  # nothing new: no second run

    changed = erp / "movimentos_2025-11-10.csv"
    changed.write_text("data;material;deposito;quantidade\n2025-11-10;M1;S1;2\n")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 1_000_000))
    result, _ = _evaluate(sources, cursor)
    assert isinstance(result, dg.RunRequest)


def test_rejected_files_do_not_trigger(tmp_path: Path) -> None:
    rejected = tmp_path / "landing" / "erp" / "rejected"
    rejected.mkdir(parents=True)
    (rejected / "bad.csv").write_text("x")
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))
    result, _ = _evaluate(sources, None)
    assert isinstance(result, dg.SkipReason)
