"""One name for the code location everywhere, so `dagster dev` starts without the warning that the
project's name (dg: the checkout's folder name when unset) differs from the workspace's."""

from __future__ import annotations

import tomllib

import yaml
from dagster.components.core.component_tree import ComponentTree

from nova_assets.settings import PROJECT_ROOT


def test_the_code_location_has_one_name() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    (location,) = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())["load_from"]
    name = location["python_module"]["location_name"]
    assert pyproject["tool"]["dagster"]["code_location_name"] == name
    assert ComponentTree.for_project(PROJECT_ROOT / "nova_assets").code_location_name == name
