"""`.env` never overrides the environment (issue 16, item 7): a real `dagster` command, run from a folder
whose `.env` was written by `nova`, sees the variables set in its environment, and `.env` only for the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nova_assets.services.local_stack import env_file_line, write_env_file

PROBE = """
import json, os
import dagster as dg


@dg.op
def probe() -> None:
    names = ("NOVA_LAKE_DIR", "NOVA_SNAPSHOT_DIR", "NOVA_SMTP_PASSWORD", "DAGSTER_HOME")
    with open(os.environ["PROBE_OUT"], "w") as out:
        json.dump({name: os.environ.get(name) for name in names}, out)


@dg.job
def probe_job() -> None:
    probe()
"""


def test_a_dagster_command_keeps_the_environment_over_dot_env(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "scratch-home"
    project.mkdir()
    home.mkdir()
    (project / "probe.py").write_text(PROBE)
    write_env_file(
        {
            "NOVA_LAKE_DIR": str(project / "data" / "lake"),  # the project's lake: must not be used
            "NOVA_SNAPSHOT_DIR": str(project / "data" / "snapshots"),  # not set in the environment: .env applies
            "NOVA_SMTP_PASSWORD": 'pa"ss\\word$x',
            "DAGSTER_HOME": str(project),
        },
        project / ".env",
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("NOVA_", "DAGSTER_"))}
    environment |= {
        "NOVA_LAKE_DIR": str(tmp_path / "scratch-lake"),
        "DAGSTER_HOME": str(home),
        "PROBE_OUT": str(tmp_path / "seen.json"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "job", "execute", "-f", "probe.py", "-j", "probe_job"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    import json

    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {
        "NOVA_LAKE_DIR": str(tmp_path / "scratch-lake"),
        "NOVA_SNAPSHOT_DIR": str(project / "data" / "snapshots"),
        "NOVA_SMTP_PASSWORD": 'pa"ss\\word$x',
        "DAGSTER_HOME": str(home),
    }
    assert list(home.iterdir()), "the run used the instance of the environment's DAGSTER_HOME"


def test_a_value_that_cannot_be_written_with_a_fallback_is_written_as_it_is() -> None:
    assert env_file_line("NOVA_X", "a}b") == "NOVA_X='a}b'"
    assert env_file_line("NOVA_X", "") == 'NOVA_X="${NOVA_X:-}"'
