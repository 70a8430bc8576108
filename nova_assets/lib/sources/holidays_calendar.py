"""Holiday calendar of Salvador (BA) -> holidays table (date, name, scope, is_major).

National and Bahia state holidays (2 de Julho) and the optional days (Carnaval, Corpus Christi,
Quarta-feira de Cinzas...) come from the `holidays` package. It has no municipal calendars, so
Salvador's own holidays are passed in; the defaults are the two that the package lacks for BA.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

# `holidays` and pandas are imported by build_holidays: the settings check NOVA_MUNICIPAL_HOLIDAYS with
# parse_municipal, and every `nova` command reads the settings
if TYPE_CHECKING:
    import pandas as pd

# (month, day, name): Salvador's municipal holidays missing from holidays.Brazil(subdiv="BA")
SALVADOR_MUNICIPAL: tuple[tuple[int, int, str], ...] = (
    (6, 24, "São João"),
    (12, 8, "Nossa Senhora da Conceição da Praia"),
)
# Days when field work and deliveries in Salvador essentially stop (documented choice):
# New Year, the two Carnaval days, Good Friday, São João and Christmas.
MAJOR = frozenset({"Confraternização Universal", "Carnaval", "Sexta-feira Santa", "São João", "Natal"})
SCOPES = ("national", "state", "municipal", "optional")  # precedence when a date has several entries
LANGUAGE = "pt_BR"


def parse_municipal(spec: str) -> tuple[tuple[int, int, str], ...]:
    """'06-24 São João; 12-08 Conceição da Praia' -> ((6, 24, 'São João'), ...); empty -> SALVADOR_MUNICIPAL.

    Lets another municipality (or a new Salvador law) be configured without a code change.
    """
    if not spec.strip():
        return SALVADOR_MUNICIPAL
    days = []
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        month_day, _, name = item.partition(" ")
        try:
            month, day = (int(n) for n in month_day.split("-"))
            date(2001, month, day)  # a common year: 02-29 would be missing three years in four
        except ValueError as exc:
            raise ValueError(f"municipal holiday {item!r}: expected 'MM-DD Name' ({exc})") from exc
        if not name.strip():
            raise ValueError(f"municipal holiday {item!r} has no name")
        days.append((month, day, name.strip()))
    return tuple(days)


def build_holidays(
    years: Iterable[int],
    subdiv: str = "BA",
    municipal: Sequence[tuple[int, int, str]] = SALVADOR_MUNICIPAL,
) -> pd.DataFrame:
    """One row per holiday date: names joined with '; ', scope of the strongest entry, is_major if
    any of its names is in MAJOR."""
    import holidays
    import pandas as pd

    years = sorted(set(years))
    national = holidays.country_holidays("BR", years=years, language=LANGUAGE)
    regional = holidays.country_holidays("BR", subdiv=subdiv, years=years, language=LANGUAGE)
    optional = holidays.country_holidays("BR", subdiv=subdiv, years=years, categories=("optional",), language=LANGUAGE)
    entries = [(day, name, "national") for day in national for name in national.get_list(day)]
    entries += [
        (day, name, "state")
        for day in regional
        for name in regional.get_list(day)
        if name not in national.get_list(day)
    ]
    entries += [(day, name, "optional") for day in optional for name in optional.get_list(day)]
    entries += [
        (pd.Timestamp(year, month, day).date(), name, "municipal") for year in years for month, day, name in municipal
    ]
    table = pd.DataFrame(entries, columns=["date", "name", "scope"])
    table["rank"] = table["scope"].map(SCOPES.index)
    table = table.sort_values(["date", "rank"]).drop_duplicates(["date", "name"])
    grouped = table.groupby("date", sort=True)
    return pd.DataFrame(
        {
            "name": grouped["name"].agg("; ".join),
            "scope": grouped["scope"].first(),
            "is_major": grouped["name"].agg(lambda names: bool(MAJOR.intersection(names))),
        }
    ).reset_index()
