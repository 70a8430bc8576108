"""The policy backtest keeps its replay for NOVA_BACKTEST_EVERY_DAYS days, on the forecast's calendar:
the next day's cycle reads the stored calibration, a new backtest day or other settings replay again,
and the gold table carries the kept replay as the cycle's rows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nova_assets.defs.inventory import policy_backtest as policy_backtest_module
from nova_assets.defs.inventory.policy_backtest import policy_backtest
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.lake_tables import (
    ECONOMICS_SELIC,
    ERP_SUPPLIERS,
    HOLIDAYS,
    POLICY_BACKTEST,
    POLICY_CALIBRATION,
)
from nova_assets.lib.sources.holidays_calendar import build_holidays
from nova_assets.resources import CycleConfig
from tests.integration.test_forecast_backtest_cadence import END, _next_day
from tests.integration.test_maintenance_assets import MaintenanceLake, build_lake
from tests.unit import maintenance_data


@pytest.fixture
def business(tmp_path: Path) -> MaintenanceLake:
    business = build_lake(tmp_path, maintenance_data.sample(6, 7))
    lake = business.lake
    lake.write(
        ERP_SUPPLIERS,
        pd.DataFrame({"supplier_id": ["SUP-01"], "supplier_name": ["Fornecedor"], "lead_time_mean_days": [7.0]}).assign(
            lead_time_std_days=2.0
        ),
    )
    lake.write(HOLIDAYS, build_holidays(range(END.year - 4, END.year + 1)))
    lake.write(ECONOMICS_SELIC, pd.DataFrame({"date": [END.date()], "value": [10.5]}))
    return business


def _replay(business: MaintenanceLake, every_days: int = 7, **settings: object) -> dict:
    resources = {
        "lake": business.lake,
        "inventory_settings": InventorySettings(**settings),
        "cycle": CycleConfig(backtest_every_days=every_days),
    }
    result = dg.materialize([policy_backtest], resources=resources)
    assert result.success
    return result.asset_materializations_for_node("inventory__policy_backtest")[0].metadata


def test_the_next_cycle_keeps_the_replay_until_the_next_backtest_day(
    business: MaintenanceLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = business.lake
    first = _replay(business)
    assert first["backtest_reused"].value is False
    assert first["cycle_date"].value == str(END.date())
    calibration = lake.read(POLICY_CALIBRATION)
    written = lake.path(POLICY_CALIBRATION).stat().st_mtime_ns

    day = _next_day(business)
    replay = policy_backtest_module.daily_backtest
    monkeypatch.setattr(
        policy_backtest_module, "daily_backtest", lambda *a, **k: pytest.fail("a kept replay was made again")
    )
    second = _replay(business)
    assert second["backtest_reused"].value is True
    assert second["cycle_date"].value == str(END.date())  # the replay's day, shown as such
    assert lake.path(POLICY_CALIBRATION).stat().st_mtime_ns == written
    pd.testing.assert_frame_equal(lake.read(POLICY_CALIBRATION), calibration)

    # other settings, or a backtest every cycle, replay again (up to the cycle's own day with 1)
    monkeypatch.setattr(policy_backtest_module, "daily_backtest", replay)
    assert _replay(business, holding_cost_rate=0.3)["backtest_reused"].value is False
    again = _replay(business, every_days=1, holding_cost_rate=0.3)
    assert again["backtest_reused"].value is False
    assert again["cycle_date"].value == str(day.date())
    assert pd.Timestamp(lake.read(POLICY_BACKTEST)["cycle_date"].iloc[0]) == day
