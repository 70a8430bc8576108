"""dagster-dbt's per-invocation target folders are pruned to the newest few of each op."""

from __future__ import annotations

import os
from pathlib import Path

from nova_assets.dbt_projects import prune_run_targets


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
