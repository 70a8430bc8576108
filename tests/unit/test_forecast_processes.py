"""`nova forecast` leaves no process behind: not when it finishes, not when a fit fails, not when it
is stopped with SIGTERM while its process pool, or the LSTM's process beside the other families, is
fitting. The pools' workers start from preloaded libraries; the LSTM beside forecasts as inline."""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting import parallel
from nova_assets.lib.forecasting.parallel import beside, map_chunks

MARK = "NOVA_PROCESS_TEST_MARK"


def _marked(mark: str) -> list[int]:
    """Live processes whose environment carries `mark` (a pool's workers and forkserver inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def _gone(mark: str, seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := _marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _demand_csv(path: Path, items: int, months: int) -> Path:
    rng = np.random.default_rng(0)
    ids = np.repeat([f"I{i:03d}" for i in range(items)], months)
    dates = np.tile(pd.date_range("2019-01-01", periods=months, freq="MS").strftime("%Y-%m"), items)
    pd.DataFrame({"item_id": ids, "month": dates, "demand": rng.poisson(4, len(ids))}).to_csv(path, index=False)
    return path


def _nova_forecast(tmp_path: Path, csv: Path, mark: str, family: str = "statistical") -> subprocess.Popen:
    command = [sys.executable, "-m", "nova_assets.cli", "forecast", "--input", str(csv), "--freq", "M"]
    command += ["--horizon", "6", "--families", family, "--n-jobs", "2", "--output", str(tmp_path / "f.csv")]
    return subprocess.Popen(command, env={**os.environ, MARK: mark}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_no_process_outlives_a_finished_forecast(tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    process = _nova_forecast(tmp_path, _demand_csv(tmp_path / "d.csv", items=10, months=24), mark)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()
    assert _gone(mark) == []
    assert "Warning" not in err.decode()  # nor does any pool worker print runpy's re-run-of-main warning


@pytest.mark.parametrize("family", ["statistical", "lstm"])  # its pool's workers; the LSTM's process beside
def test_no_process_outlives_a_forecast_stopped_with_sigterm(tmp_path: Path, family: str) -> None:
    mark = uuid.uuid4().hex
    process = _nova_forecast(tmp_path, _demand_csv(tmp_path / "d.csv", items=200, months=36), mark, family)
    deadline = time.monotonic() + 300
    while len(_marked(mark)) < 3 and time.monotonic() < deadline:  # nova, its forkserver and its workers
        time.sleep(0.2)
    assert len(_marked(mark)) >= 3, "the process pool (or the LSTM's process) never started"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert _gone(mark) == []


def _fail_on_b(chunk: list[str], folder: Path) -> list[str]:
    (folder / f"worker-{os.getpid()}").touch()
    if "b" in chunk:
        time.sleep(1)  # the other workers have started their chunks
        raise RuntimeError("fit failed")
    time.sleep(60)  # still fitting when the failure arrives
    return chunk


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_failed_chunk_ends_the_other_workers(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="fit failed"):
        map_chunks(_fail_on_b, list("abcdefghij"), tmp_path, n_jobs=2)
    assert time.monotonic() - started < 45  # did not wait for the other chunks to finish
    workers = [int(p.name.removeprefix("worker-")) for p in tmp_path.glob("worker-*")]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _die_on_b(chunk: list[str], folder: Path) -> list[str]:
    if "b" in chunk:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return chunk


def test_a_worker_that_dies_fails_the_call_instead_of_hanging(tmp_path: Path) -> None:
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            map_chunks(_die_on_b, list("abcdefghij"), tmp_path, n_jobs=2)
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(timeout=120)
    assert not caller.is_alive(), "map_chunks waited for ever on a dead worker"
    assert outcome and isinstance(outcome[0], BrokenProcessPool)


def _modules_at_start(chunk: list[int], names: list[str]) -> list[bool]:
    return [name in sys.modules for name in names]


PROBE = """
import sys
from nova_assets.lib.forecasting.parallel import map_chunks
from tests.unit.test_forecast_processes import _modules_at_start
names = ["nova_assets.lib.forecasting.models", "statsforecast"]
assert not any(name in sys.modules for name in names)  # this process never imported them
print(all(all(seen) for seen in map_chunks(_modules_at_start, list(range(16)), names, n_jobs=2)))
"""


def test_pool_workers_start_with_the_model_libraries_already_imported() -> None:
    """They fork from a forkserver that imported the families' modules once (parallel.POOL_PRELOAD),
    instead of each worker of each pool importing statsforecast & co. again."""
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "True"


def test_the_lstm_beside_the_other_families_forecasts_what_it_forecasts_among_them() -> None:
    from nova_assets.lib.forecasting import pipeline

    rng = np.random.default_rng(3)
    months = pd.date_range("2019-01-01", periods=40, freq="MS")
    frame = pd.DataFrame({"unique_id": np.repeat([f"I{i:02d}" for i in range(30)], 40), "ds": np.tile(months, 30)})
    frame["y"] = rng.poisson(3, len(frame)).astype(float)
    families = pipeline.select_families(["intermittent", "lstm"])
    assert [f.name for f in families if f.single_core] == ["lstm"]
    messages: list[str] = []

    def stage(families: list) -> pd.DataFrame:
        _, ensemble = pipeline.run_forecast(frame, families, 6, 12, n_jobs=2, freq="M", progress=messages.append)
        return ensemble.forecast

    aside = stage(families)
    assert any("lstm" in m and "in a process of its own" in m for m in messages)
    inline = stage([dataclasses.replace(f, single_core=False) for f in families])
    assert sum("in a process of its own" in m for m in messages) == 1
    pd.testing.assert_frame_equal(aside, inline)


def _note_pid_and_sleep(folder: Path) -> None:
    (folder / f"worker-{os.getpid()}").touch()
    time.sleep(60)  # a long fit


def test_the_process_beside_ends_when_the_command_is_stopped(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(SystemExit), beside(_note_pid_and_sleep, tmp_path):
        while not list(tmp_path.glob("worker-*")) and time.monotonic() - started < 60:
            time.sleep(0.1)
        raise SystemExit(128 + signal.SIGTERM)  # what SIGTERM becomes in the nova commands
    worker = int(next(tmp_path.glob("worker-*")).name.removeprefix("worker-"))
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)
    assert time.monotonic() - started < 45  # did not wait for the fit


BESIDE_PROBE = """
import os, sys, time
from pathlib import Path
from nova_assets.lib.forecasting import parallel
from tests.unit.test_forecast_processes import _note_pid_and_sleep
parallel.POOL_PRELOAD = ["slow_preload"]  # the forkserver's imports take 3 s, as the model libraries take seconds
folder = Path(sys.argv[1])
started = time.monotonic()
if sys.argv[2] == "wait":
    with parallel.beside(os.getpid) as later:
        print(round(time.monotonic() - started, 2), later.result() != os.getpid())
else:
    try:
        with parallel.beside(_note_pid_and_sleep, folder):
            raise SystemExit(143)  # stopped before its process has started
    except SystemExit:
        print(round(time.monotonic() - started, 2))
"""


def _beside_probe(tmp_path: Path, mode: str, mark: str = "") -> list[str]:
    (tmp_path / "slow_preload.py").write_text("import time\ntime.sleep(3)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]), MARK: mark}
    probe = subprocess.run(
        [sys.executable, "-c", BESIDE_PROBE, str(tmp_path), mode], capture_output=True, text=True, env=env, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    return probe.stdout.split()


def test_the_caller_goes_on_while_the_process_beside_starts(tmp_path: Path) -> None:
    """The first process of a command waits seconds for the forkserver's imports; `nova forecast`
    runs its other families meanwhile instead of waiting for the LSTM's process to start."""
    entered, other_process = _beside_probe(tmp_path, "wait")
    assert float(entered) < 1.5
    assert other_process == "True"


def test_a_command_stopped_while_the_process_beside_starts_leaves_none_behind(tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    (seconds,) = _beside_probe(tmp_path, "stop", mark)
    assert float(seconds) < 30  # waited for the start, not for the 60 s fit
    assert _gone(mark) == []


class _CancelledWhileChecked(Future):
    """A caller's Future cancelled at the worst moment when the fit's outcome looks at it: right after a
    check whether it is done (the old pass_on's race), or just before an atomic claim of it."""

    def done(self) -> bool:
        was_done = super().done()
        self.cancel()
        return was_done

    def set_running_or_notify_cancel(self) -> bool:
        self.cancel()
        return super().set_running_or_notify_cancel()


class _OneFuturePool:
    def __init__(self) -> None:
        self.submitted: Future = Future()

    def submit(self, fn: object, *args: object) -> Future:
        return self.submitted


def test_a_result_cancelled_while_the_fit_ends_is_dropped_without_an_error(caplog: pytest.LogCaptureFixture) -> None:
    result = _CancelledWhileChecked()
    pool = _OneFuturePool()
    parallel._submit_into(pool, result, os.getpid, ())  # type: ignore[arg-type]
    pool.submitted.set_result(1)  # the fit ends; its outcome is passed on to the cancelled result
    assert result.cancelled()
    assert not [r for r in caplog.records if "exception calling callback" in r.getMessage()]


def test_a_fits_outcome_reaches_the_caller() -> None:
    for outcome in (7, ValueError("a failed fit")):
        result: Future = Future()
        pool = _OneFuturePool()
        parallel._submit_into(pool, result, os.getpid, ())  # type: ignore[arg-type]
        if isinstance(outcome, Exception):
            pool.submitted.set_exception(outcome)
            assert result.exception() is outcome
        else:
            pool.submitted.set_result(outcome)
            assert result.result() == outcome
