"""`nova run` and `nova ui` refuse what cannot work before they start anything (no PostgreSQL, no server)."""

from __future__ import annotations

import socket

import pytest

from nova_assets import cli
from nova_assets.defs.partitions import daily_partitions


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing started, nothing announced
    return captured.err


def test_run_refuses_a_partition_that_is_not_a_day_of_the_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert "expected a day as YYYY-MM-DD" in _refused(["run", "--partition", "2025-13-01"], capsys)
    first, last = daily_partitions.get_first_partition_key(), daily_partitions.get_last_partition_key()
    message = _refused(["run", "--partition", "2019-01-01"], capsys)
    assert f"outside the daily partitions {first} .. {last}" in message
    assert cli.partition_problem(first) is None and cli.partition_problem(last) is None


def test_ui_refuses_a_port_already_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        message = _refused(["ui", "--dagster-port", str(port), "--mlflow-port", str(port)], capsys)
    assert f"the Dagster UI (--dagster-port) 127.0.0.1:{port}" in message
    assert f"the MLflow UI (--mlflow-port) 127.0.0.1:{port}" in message
