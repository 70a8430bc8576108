"""The dbt projects' resource and run folders: dagster-dbt learns dbt's version without starting
dbt, and its per-invocation target folders are pruned to the newest few of each op."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import dagster_dbt.core.resource
import pytest

from nova_assets.dbt_projects import DBT_EXECUTABLE, dbt_resource, features_project, gold_project, prune_run_targets


def test_the_dbt_steps_know_dbts_version_without_starting_dbt(monkeypatch: pytest.MonkeyPatch) -> None:
    """dagster-dbt would run `dbt --version` before every dbt step; the version is the dbt beside us."""
    printed = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed: (\d+\.\d+\.\d+)", printed)
    assert installed, printed

    def no_dbt(command: list[str], *args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"dagster-dbt started {command}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_dbt)
    for project in (features_project, gold_project):
        resource = dbt_resource(project)
        assert resource.dbt_executable == DBT_EXECUTABLE
        assert str(resource._cli_version) == installed.group(1)


def test_only_the_newest_folders_of_the_same_op_stay(tmp_path: Path) -> None:
    names = [f"dbt_features-run{i:04d}-abc{i:04d}" for i in range(8)]
    for age, name in enumerate(names):  # names[0] newest
        folder = tmp_path / name
        (folder / "run_results.json").parent.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    other = tmp_path / "gold_marts-run0000-abc0000"
    other.mkdir()
    os.utime(other, (1, 1))
    (tmp_path / "manifest.json").write_text("{}")

    prune_run_targets(tmp_path / names[0], keep=3)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[:3], other.name, "manifest.json"])
