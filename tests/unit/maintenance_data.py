"""A synthetic maintenance business shared by the maintenance tests: the sample's catalogue (one
material per catalogue item of erp_generator), N towers, the recorded Salvador weather snapshot.
Generated once per test session (a few seconds)."""

from __future__ import annotations

from datetime import date
from functools import cache

import pandas as pd

from nova_assets.lib.maintenance.failure_model import FailureModel, fit_failure_model
from nova_assets.lib.sample.maintenance_generator import MaintenanceSample, generate_maintenance, item_catalogue
from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo
from nova_assets.lib.sources.snapshots import load_snapshot

START = date(2021, 11, 12)  # the weather snapshot's four years
END = date(2025, 11, 10)
TOWERS = 60


@cache
def weather() -> pd.DataFrame:
    return parse_openmeteo(load_snapshot(SNAPSHOT))


@cache
def catalogue() -> pd.DataFrame:
    return item_catalogue()


def towers(n: int) -> pd.DataFrame:
    sites = [{"site_id": "WH-SSA-01", "site_type": "warehouse"}]
    sites += [{"site_id": f"TWR-{i:03d}", "site_type": "tower"} for i in range(n)]
    return pd.DataFrame(sites)


@cache
def sample(n_towers: int = TOWERS, seed: int = 7) -> MaintenanceSample:
    return generate_maintenance(catalogue(), towers(n_towers), weather(), start=START, end=END, seed=seed)


@cache
def fitted(n_towers: int = TOWERS, seed: int = 7) -> FailureModel:
    data = sample(n_towers, seed)
    return fit_failure_model(data.installed_base, data.work_orders, weather(), START, END)
