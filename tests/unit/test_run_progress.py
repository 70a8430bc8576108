"""`nova run`'s concise view: steps counted per layer from the run's event log, failures shown,
expected warnings said once at the end in plain words, other warnings once as they come."""

from __future__ import annotations

import io

import dagster as dg

from nova_assets.services.progress import Event, Progress, follow_run

LAYERS = {"erp_tables": "ingest", "raw__holidays": "ingest", "dbt_features": "transform", "gold_marts": "gold"}


def _done(step: str) -> Event:
    return Event("DEBUG", step, "STEP_SUCCESS", f'Finished execution of step "{step}".')


def test_plain_lines_count_steps_by_layer_and_close_with_the_expected_warnings_once() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False)
    progress.set_plan(LAYERS)
    for step in ("erp_tables", "raw__holidays"):
        progress.feed(Event("DEBUG", step, "STEP_START", "Started"))
        progress.feed(_done(step))
    for test in ("a", "b", "c"):
        message = f"Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt test `{test}`."
        progress.feed(Event("WARNING", "gold_marts", None, message))
    progress.feed(Event("WARNING", "alert_dispatch", None, "email: canal ignorado, falta(m) NOVA_SMTP_HOST"))
    progress.feed(Event("WARNING", "alert_dispatch", None, "something new"))
    progress.feed(Event("WARNING", "alert_dispatch", None, "something new"))
    progress.feed(Event("ERROR", "dbt_features", "STEP_FAILURE", "dbt build failed: 1 error"))
    progress.feed(_done("gold_marts"))
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "4 steps: ingest 2, transform 1, gold 1"
    assert lines[1].startswith("  [1/4]") and lines[1].endswith("ingest    erp_tables done")
    assert lines[3].startswith("ingest    2/2 steps")
    assert lines.count("  warning: alert_dispatch: something new") == 1
    assert "  FAILED dbt_features (transform): dbt build failed: 1 error" in lines
    assert any(line.startswith("transform 0/1 steps, 1 FAILED") for line in lines)
    assert not any("AssetObservation" in line or "canal ignorado" in line for line in lines)  # said at the end
    summary = progress.summary()
    assert summary[0].startswith("4 of 4 steps finished") and summary[1] == "failed: dbt_features"
    assert "channels without credentials were skipped (NOVA_SMTP_HOST)" in summary[2]
    assert summary[3].startswith("note: 3 dbt tests") and len(summary) == 4


def test_a_terminal_gets_one_bar_redrawn_in_place() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.set_plan(LAYERS)
    progress.feed(Event("DEBUG", "erp_tables", "STEP_START", "Started"))
    progress.feed(_done("erp_tables"))
    progress.close()
    text = out.getvalue()
    assert "\r\x1b[2K[#######-----------------------] 1/4 steps" in text
    assert "erp_tables done" not in text  # no line per step on a terminal


def test_the_view_follows_the_run_in_the_instance_event_log() -> None:
    @dg.asset
    def probe(context) -> None:
        context.log.warning("a warning the user should see")

    instance = dg.DagsterInstance.ephemeral()
    events = follow_run(instance, ("nova/launch", "abc"))
    assert next(events) == []  # no such run yet
    assert dg.materialize([probe], instance=instance, tags={"nova/launch": "abc"}).success
    seen = next(events)
    assert any(e.event == "STEP_SUCCESS" and e.step == "probe" for e in seen)
    assert any(e.level == "WARNING" and e.event is None and "user should see" in e.message for e in seen)
    assert next(events) == []  # nothing new
