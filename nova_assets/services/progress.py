"""What `nova run` shows of a daily cycle: progress by layer, not Dagster's ~2,000 lines of events.

The job runs in its own process (`dagster job execute`); everything it prints goes to a log file,
named at the end. On the terminal: the layers (ingest ... delivery) with their steps done of total,
the elapsed time and, on a TTY, a progress bar redrawn in place; elsewhere (CI, a pipe) one plain
line per finished step. A failed step is shown with its error; a warning the cycle is expected to
give (a delivery channel without credentials, dbt tests logged as observations) is said once, in
plain words, at the end; any other warning is shown once, as it comes.

The view reads the run's events from the Dagster instance's event log (`follow_run`), the record
every step writes to, not from the console, where a step's last lines can be lost as its process
ends. The steps and their layers (the asset groups) come from the job's execution plan, built by
`python -m nova_assets.services.progress JOB PARTITION` beside the run, so the run does not wait.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

LAYERS = ("ingest", "transform", "forecast", "inventory", "gold", "delivery")
GROUP_LAYER = {"gold_analytics": "gold", "gold_marts": "gold"}  # any other group is its own layer
DONE_EVENTS = {"STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED", "STEP_SKIPPED": "skipped"}
# (pattern in a warning, what it means, said once at the end)
EXPECTED_WARNINGS = (
    (
        re.compile(r"canal ignorado, falta\(m\) (?P<missing>.*)"),
        "alert channels without credentials were skipped ({missing}); the alerts are in the gold layer and the "
        "PDF report. Set them to send (docs/configuration.md, Alert delivery).",
    ),
    (
        re.compile(r"Logging an `AssetObservation` instead of an `AssetCheckResult` for dbt test"),
        "{count} dbt tests on sources and singular tests are recorded as asset observations, not asset checks "
        "(dagster-dbt's way for tests it cannot attach to one asset); their results are in the log.",
    ),
)


@dataclass(frozen=True)
class Event:
    """One event of the run: level name, step key (if any), Dagster event type (None for a log message), message."""

    level: str
    step: str | None
    event: str | None
    message: str


def from_entry(entry) -> Event:  # a dagster EventLogEntry
    """The event log entry as the view needs it: level name, step, event type, message (a failure's error)."""
    import logging

    dagster_event = entry.dagster_event
    message = entry.user_message or ""
    event_type = dagster_event.event_type_value if dagster_event else None
    if dagster_event is not None and dagster_event.is_step_failure:
        error = dagster_event.step_failure_data.error
        message = (error.message.strip() if error else message) or message
    return Event(logging.getLevelName(entry.level), entry.step_key, event_type, message)


def follow_run(instance, tag: tuple[str, str]):  # -> Iterator[list[Event]]
    """Yield the new events of the run carrying `tag` each time it is called on (none until it exists)."""
    from dagster import RunsFilter

    run_id, cursor = None, None
    while True:
        if run_id is None:
            runs = instance.get_runs(RunsFilter(tags={tag[0]: tag[1]}), limit=1)
            run_id = runs[0].run_id if runs else None
        events: list[Event] = []
        while run_id is not None:
            page = instance.get_records_for_run(run_id, cursor=cursor, limit=1000)
            cursor = page.cursor
            events += [from_entry(record.event_log_entry) for record in page.records]
            if not page.has_more:
                break
        yield events


def layer_of(group: str | None) -> str:
    return GROUP_LAYER.get(group or "", group or "other")


def plan_layers(job_name: str, partition: str) -> dict[str, str]:
    """Step key -> layer of every step the job runs for `partition` (loads the code location)."""
    from dagster._core.execution.api import create_execution_plan

    from nova_assets.definitions import defs

    definitions = defs()
    graph = definitions.resolve_asset_graph()
    plan = create_execution_plan(definitions.resolve_job_def(job_name), tags={"dagster/partition": partition})
    layers: dict[str, str] = {}
    for step in plan.get_all_steps_in_topo_order():
        keys = [o.properties.asset_key for o in step.step_outputs if o.properties and o.properties.asset_key]
        groups = [graph.get(key).group_name for key in keys if graph.has(key)]
        if groups:
            layers[step.key] = layer_of(Counter(groups).most_common(1)[0][0])
    # a material-group step materializes nothing itself: it takes the layer of its graph (`<graph>.<op>`)
    for step in plan.get_all_steps_in_topo_order():
        if step.key not in layers:
            siblings = [layer for key, layer in layers.items() if key.split(".")[0] == step.key.split(".")[0]]
            layers[step.key] = siblings[0] if siblings else "other"
    return layers


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


@dataclass
class Progress:
    """Counts finished steps per layer from the run's log lines and writes the concise view to `out`."""

    out: TextIO
    tty: bool
    started: float = field(default_factory=time.monotonic)
    layers: dict[str, str] = field(default_factory=dict)  # step -> layer, once the plan is known
    finished: dict[str, str] = field(default_factory=dict)  # step -> done / FAILED / skipped
    running: set[str] = field(default_factory=set)
    expected: dict[int, list[re.Match]] = field(default_factory=dict)
    shown_warnings: set[str] = field(default_factory=set)
    layers_reported: set[str] = field(default_factory=set)
    _bar_shown: bool = False

    def set_plan(self, layers: dict[str, str]) -> None:
        self.layers = layers
        if layers:
            counts = Counter(layers.values())
            self._say(f"{len(layers)} steps: " + ", ".join(f"{layer} {counts[layer]}" for layer in self._layer_order()))
        for layer in self._layer_order():
            self._report_layer_if_done(layer)

    def feed(self, event: Event) -> None:
        if event.event == "STEP_START" and event.step:
            self.running.add(event.step)
        elif event.event in DONE_EVENTS and event.step:
            self.running.discard(event.step)
            self.finished[event.step] = DONE_EVENTS[event.event]
            self._step_finished(event)
        elif event.level in {"WARNING", "ERROR", "CRITICAL"} and event.event in {None, "ENGINE_EVENT"}:
            self._warning(event)
        self.redraw()

    def _step_finished(self, event: Event) -> None:
        assert event.step is not None
        status = self.finished[event.step]
        layer = self.layers.get(event.step, "")
        if status == "FAILED":
            self._say(f"  FAILED {event.step} ({layer or 'step'}): {event.message[:500]}")
        elif not self.tty:
            self._say(f"  [{self._count()}] {_clock(self.elapsed)} {layer:<9} {event.step} {status}")
        if layer:
            self._report_layer_if_done(layer)

    def _warning(self, event: Event) -> None:
        for index, (pattern, _) in enumerate(EXPECTED_WARNINGS):
            match = pattern.search(event.message)
            if match:
                self.expected.setdefault(index, []).append(match)
                return
        text = f"{event.step + ': ' if event.step else ''}{event.message}"[:300]
        if text not in self.shown_warnings:
            self.shown_warnings.add(text)
            self._say(f"  {event.level.lower()}: {text}")

    def _layer_order(self) -> list[str]:
        present = set(self.layers.values())
        return [layer for layer in LAYERS if layer in present] + sorted(present - set(LAYERS))

    def _report_layer_if_done(self, layer: str) -> None:
        steps = [step for step, of in self.layers.items() if of == layer]
        if layer in self.layers_reported or not steps or any(step not in self.finished for step in steps):
            return
        self.layers_reported.add(layer)
        failed = sum(self.finished[step] == "FAILED" for step in steps)
        outcome = f", {failed} FAILED" if failed else ""
        self._say(f"{layer:<9} {len(steps) - failed}/{len(steps)} steps{outcome}  ({_clock(self.elapsed)})")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _count(self) -> str:
        total = len(self.layers) or "?"
        return f"{len(self.finished)}/{total}"

    def redraw(self) -> None:
        """On a TTY, the bar line in place: steps done of total, elapsed time, what runs now."""
        if not self.tty:
            return
        total = len(self.layers)
        share = len(self.finished) / total if total else 0.0
        width = 30
        bar = "#" * int(share * width) + "-" * (width - int(share * width))
        now = ", ".join(sorted(self.running))[:60]
        self.out.write(f"\r\x1b[2K[{bar}] {self._count()} steps  {_clock(self.elapsed)}  {now}")
        self.out.flush()
        self._bar_shown = True

    def _say(self, text: str) -> None:
        if self._bar_shown:
            self.out.write("\r\x1b[2K")
            self._bar_shown = False
        self.out.write(text + "\n")
        self.out.flush()

    def summary(self) -> list[str]:
        """The closing lines: the count, what failed, the expected warnings in plain words."""
        failed = sorted(step for step, status in self.finished.items() if status == "FAILED")
        lines = [
            f"{len(self.finished)} of {len(self.layers) or len(self.finished)} steps finished in {_clock(self.elapsed)}"
        ]
        if failed:
            lines.append("failed: " + ", ".join(failed))
        for index, matches in sorted(self.expected.items()):
            groups = {key: value for match in matches for key, value in match.groupdict().items()}
            missing = ", ".join(sorted({m.group("missing") for m in matches if "missing" in m.groupdict()}))
            lines.append(
                "note: " + EXPECTED_WARNINGS[index][1].format(**{**groups, "missing": missing, "count": len(matches)})
            )
        return lines

    def close(self) -> None:
        if self._bar_shown:
            self.out.write("\n")
            self._bar_shown = False


if __name__ == "__main__":  # the plan helper: `python -m nova_assets.services.progress JOB PARTITION`
    print(json.dumps(plan_layers(sys.argv[1], sys.argv[2])))
