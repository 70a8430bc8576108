"""The alerts' stale-data warning: each daily source judged by its own freshness rule, as its `fresh` check."""

from datetime import date, timedelta

import pytest

from nova_assets.defs.inventory.alerts import FRESHNESS_SOURCES
from nova_assets.lib.inventory.alerts import SourceDate, stale_warning
from nova_assets.lib.sources.quality import RULES, CheckContext, _fresh_of

TUESDAY = date(2025, 11, 11)


def _sources(**latest: date | None) -> list[SourceDate]:
    """The five daily sources with the contract's limits, all from yesterday unless given."""
    limits = {"erp_movements": 3, "erp_stock": 7, "weather_daily": 7, "economics_selic": 3, "economics_usd_brl": 5}
    return [SourceDate(t, latest.get(t, TUESDAY - timedelta(days=1)), n) for t, n in limits.items()]


def test_ptax_within_its_own_limit_is_fresh_while_a_source_past_its_limit_is_named() -> None:
    sources = _sources(economics_usd_brl=date(2025, 11, 7), erp_movements=date(2025, 11, 6))
    assert stale_warning(TUESDAY, sources) == (
        "ATENÇÃO: dados desatualizados: erp_movements até 06/11/2025 (5 dias antes de 11/11/2025, máximo 3)"
    )


def test_no_warning_when_every_source_is_within_its_own_limit() -> None:
    # PTAX 4 days (max 5), stock 7 (max 7), weather 6 (max 7): older than 3 days, not stale
    sources = _sources(
        economics_usd_brl=date(2025, 11, 7), erp_stock=date(2025, 11, 4), weather_daily=date(2025, 11, 5)
    )
    assert stale_warning(TUESDAY, sources) == ""


def test_several_stale_sources_are_joined() -> None:
    sources = _sources(economics_usd_brl=date(2025, 11, 7), erp_movements=None)
    assert stale_warning(date(2025, 11, 17), sources) == (
        "ATENÇÃO: dados desatualizados: erp_movements sem data (máximo 3); "
        "economics_selic até 10/11/2025 (7 dias antes de 17/11/2025, máximo 3); "
        "economics_usd_brl até 07/11/2025 (10 dias antes de 17/11/2025, máximo 5)"
    )


@pytest.mark.parametrize("table", [t.name for t in FRESHNESS_SOURCES])
def test_the_warning_agrees_with_the_sources_fresh_check(table: str) -> None:
    rules = RULES[table]
    assert rules.freshness is not None
    for lag in range(12):
        latest = TUESDAY - timedelta(days=lag)
        check = _fresh_of(latest, rules, CheckContext(as_of=TUESDAY))
        warning = stale_warning(TUESDAY, [SourceDate(table, latest, rules.freshness.max_lag_days)])
        assert bool(warning) == (not check.passed), (table, lag)
