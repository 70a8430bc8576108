"""The landing sensor asks for a cycle when an ERP export arrives or changes, and only then."""

import json
import os
from pathlib import Path

import dagster as dg

from nova_assets.defs.automation.sensors import erp_landing_sensor
from nova_assets.lib.sources.erp_store import ErpStore
from nova_assets.resources import LakeResource, SourcesResource

SITES = "site_id,site_name,state,city,latitude,longitude\nWH-1,Depósito Salvador,BA,Salvador,-12.97,-38.50\n"


def _evaluate(sources: SourcesResource, cursor: str | None):
    lake = LakeResource(lake_dir=str(Path(sources.landing_dir).parent / "lake"))
    context = dg.build_sensor_context(cursor=cursor, resources={"sources": sources, "lake": lake})
    return erp_landing_sensor(context), context.cursor


def test_new_and_changed_files_request_a_run_once(tmp_path: Path) -> None:
    erp = tmp_path / "landing" / "erp"
    erp.mkdir(parents=True)
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))

    result, cursor = _evaluate(sources, None)
    assert isinstance(result, dg.SkipReason)

    (erp / "movimentos_2025-11-10.csv").write_text("data;material;deposito;quantidade\n")
    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.SkipReason) and "stop changing" in result.skip_message  # one tick to settle
    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.RunRequest)
    assert "movimentos_2025-11-10.csv" in result.tags["nova/files"]
    assert result.partition_key is not None

    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.SkipReason)  # nothing new: no second run

    changed = erp / "movimentos_2025-11-10.csv"
    changed.write_text("data;material;deposito;quantidade\n2025-11-10;M1;S1;2\n")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 1_000_000))
    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.SkipReason)
    result, _ = _evaluate(sources, cursor)
    assert isinstance(result, dg.RunRequest)


def test_a_file_still_being_copied_in_waits_until_it_stops_changing(tmp_path: Path) -> None:
    erp = tmp_path / "landing" / "erp"
    erp.mkdir(parents=True)
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))
    export = erp / "movimentos.csv"
    cursor = None
    for rows in range(1, 4):  # a slow copy: larger at every tick
        export.write_text("data;material;deposito;quantidade\n" + "2025-11-10;M1;S1;2\n" * rows)
        result, cursor = _evaluate(sources, cursor)
        assert isinstance(result, dg.SkipReason), rows
    requests = [_evaluate(sources, cursor)]
    requests.append(_evaluate(sources, requests[0][1]))
    assert [isinstance(r, dg.RunRequest) for r, _ in requests] == [True, False]  # one run, for the whole file


def test_rejected_files_do_not_trigger(tmp_path: Path) -> None:
    rejected = tmp_path / "landing" / "erp" / "rejected"
    rejected.mkdir(parents=True)
    (rejected / "bad.csv").write_text("x")
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))
    cursor = None
    for _ in range(2):  # the first tick, and the next, when a file seen at the first would have settled
        result, cursor = _evaluate(sources, cursor)
        assert isinstance(result, dg.SkipReason) and "no new ERP export" in result.skip_message
    assert json.loads(cursor)["seen"] == {}  # not even watched while it settles


def test_files_the_store_already_loaded_start_no_cycle(tmp_path: Path) -> None:
    """`make run` loaded them before the daemon ever ran: neither the first tick nor a touch asks again."""
    erp = tmp_path / "landing" / "erp"
    erp.mkdir(parents=True)
    (erp / "sites.csv").write_text(SITES, encoding="utf-8")
    (loaded,) = ErpStore.in_lake(tmp_path / "lake").ingest(tmp_path / "landing").loaded
    assert loaded.file_name == "sites.csv"
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))

    cursor = None
    for _ in range(2):  # the first tick, and the next when the files have settled
        result, cursor = _evaluate(sources, cursor)
        assert isinstance(result, dg.SkipReason)
    path = erp / "sites.csv"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    (erp / "sites_copy.csv").write_text(SITES, encoding="utf-8")  # the same export dropped again
    for _ in range(2):
        result, cursor = _evaluate(sources, cursor)
        assert isinstance(result, dg.SkipReason)

    path.write_text(SITES + "WH-2,Depósito Feira,BA,Feira de Santana,-12.27,-38.97\n", encoding="utf-8")
    result, cursor = _evaluate(sources, cursor)
    assert isinstance(result, dg.SkipReason)
    result, _ = _evaluate(sources, cursor)
    assert isinstance(result, dg.RunRequest) and result.tags["nova/files"] == "sites.csv"


def test_the_earlier_cursor_form_is_read_as_files_already_handled(tmp_path: Path) -> None:
    erp = tmp_path / "landing" / "erp"
    erp.mkdir(parents=True)
    (erp / "sites.csv").write_text(SITES, encoding="utf-8")
    sources = SourcesResource(landing_dir=str(tmp_path / "landing"), snapshot_dir=str(tmp_path))
    stat = (erp / "sites.csv").stat()
    earlier = json.dumps({"sites.csv": f"{stat.st_size}:{stat.st_mtime_ns}"})  # {file: stamp}, before the settle tick
    result, cursor = _evaluate(sources, earlier)
    assert isinstance(result, dg.SkipReason) and "no new ERP export" in result.skip_message
    assert json.loads(cursor)["handled"] == json.loads(earlier)
