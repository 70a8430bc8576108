from __future__ import annotations

from datetime import date

import pytest

from nova_assets.lib.sources.holidays_calendar import SALVADOR_MUNICIPAL, build_holidays, parse_municipal


def test_salvador_2024_calendar():
    table = build_holidays([2024]).set_index("date")
    assert list(table.reset_index().columns) == ["date", "name", "scope", "is_major"]
    assert table.index.is_unique and table.index.is_monotonic_increasing
    assert table["is_major"].dtype == bool
    expected = {
        date(2024, 1, 1): ("Confraternização Universal", "national", True),
        date(2024, 2, 12): ("Carnaval", "optional", True),
        date(2024, 2, 13): ("Carnaval", "optional", True),
        date(2024, 2, 14): ("Quarta-feira de Cinzas", "optional", False),
        date(2024, 3, 29): ("Sexta-feira Santa", "national", True),
        date(2024, 5, 30): ("Corpus Christi", "optional", False),
        date(2024, 6, 24): ("São João", "municipal", True),
        date(2024, 7, 2): ("Independência da Bahia", "state", False),
        date(2024, 11, 20): ("Dia Nacional de Zumbi e da Consciência Negra", "national", False),
        date(2024, 12, 8): ("Nossa Senhora da Conceição da Praia", "municipal", False),
        date(2024, 12, 25): ("Natal", "national", True),
    }
    for day, row in expected.items():
        assert tuple(table.loc[day]) == row, day
    assert set(table["scope"]) == {"national", "state", "municipal", "optional"}


def test_every_major_holiday_is_found_every_year():
    """Fails if the holidays package renames an entry that is_major relies on."""
    years = range(2015, 2027)
    majors = build_holidays(years).query("is_major")
    per_year = majors.groupby(majors["date"].map(lambda d: d.year)).size()
    # New Year, two Carnaval days, Good Friday, São João, Christmas
    assert per_year.to_dict() == dict.fromkeys(years, 6)


def test_municipal_dates_are_configurable_and_merge_with_existing_entries():
    table = build_holidays([2025], municipal=[(7, 2, "Aniversário fictício"), (10, 28, "Outro")]).set_index("date")
    assert tuple(table.loc[date(2025, 7, 2)]) == (
        "Independência da Bahia; Aniversário fictício",
        "state",
        False,
    )
    assert tuple(table.loc[date(2025, 10, 28)]) == ("Outro; Dia do Servidor Público", "municipal", False)
    assert date(2025, 6, 24) not in table.index  # the defaults are replaced, not added to


def test_subdivision_is_configurable():
    table = build_holidays([2025], subdiv="SP", municipal=[]).set_index("date")
    assert date(2025, 7, 2) not in table.index
    assert table.loc[date(2025, 7, 9), "scope"] == "state"


def test_municipal_holidays_are_configurable():
    assert parse_municipal("") == SALVADOR_MUNICIPAL
    days = parse_municipal("06-24 São João; 08-15 Nossa Senhora da Boa Morte;")
    assert days == ((6, 24, "São João"), (8, 15, "Nossa Senhora da Boa Morte"))
    table = build_holidays([2025], municipal=days).set_index("date")
    assert tuple(table.loc[date(2025, 8, 15)]) == ("Nossa Senhora da Boa Morte", "municipal", False)
    assert date(2025, 12, 8) not in table.index


@pytest.mark.parametrize("spec", ["24/06 São João", "06-31 Nope", "06-24", "02-29 Leap"])
def test_bad_municipal_holiday_settings_are_refused(spec):
    with pytest.raises(ValueError, match="municipal holiday"):
        parse_municipal(spec)
