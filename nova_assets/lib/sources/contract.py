"""The data contract of a raw table, as data: its columns and types, key, date bounds, series calendar, freshness.

`TableRules` says what a raw table must satisfy; `quality.evaluate` turns it into checks. The
rules of the ERP tables are in `quality`, those of each public source in its entry in `public`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

Kind = Literal["str", "float", "int", "date", "bool"]
Calendar = Literal["daily", "business", "monthly"]
# name -> (what it verifies, blocking: a failure stops the table from replacing the last good one)
CHECKS: dict[str, tuple[str, bool]] = {
    "schema": ("required columns present with the contract types, no missing required value, rows present", True),
    "date_range": (
        "no date before 2000-01-01 or after the cycle's as-of date (or the column's own bound); ERP rows outside "
        "are held back, blocking only when more than NOVA_ERP_MAX_HELD_BACK_SHARE of the rows are",
        True,
    ),
    "unique_key": ("no two rows share the table's key", True),
    "non_negative": ("no negative quantity, cost, lead time or count", True),
    "known_materials": (
        "every material_id exists in erp_materials (codes compared case-insensitively); other rows are held back, "
        "blocking only when more than NOVA_ERP_MAX_HELD_BACK_SHARE of the rows are",
        True,
    ),
    "known_sites": ("every site_id exists in erp_sites", False),
    "known_equipment": ("every equipment_id of a work order exists in erp_installed_base", False),
    "plausible": (
        "no ERP value outside its plausible range or far above its material's history (such rows are held back; "
        "blocking only when more than NOVA_ERP_MAX_HELD_BACK_SHARE of the rows are)",
        True,
    ),
    "replacement": (
        "no movements file without document numbers replaces far more stored rows than it brings",
        True,
    ),
    "no_gaps": ("the series has a value for every day (business day for PTAX, month for monthly series)", False),
    "fresh": ("newest date close enough to the as-of date, and not a fallback for a failed live fetch", False),
    "rows_loaded": ("at most 1% of the rows quarantined and no file of the table rejected in this run", False),
}


@dataclass(frozen=True)
class DateBound:
    """The latest date a column may hold: the as-of date plus `days_after`, or the end of next year."""

    days_after: int = 0
    next_year_end: bool = False

    def latest(self, as_of: date) -> date:
        return date(as_of.year + 1, 12, 31) if self.next_year_end else as_of + timedelta(days=self.days_after)


@dataclass(frozen=True)
class Freshness:
    """`column`'s newest date (with a value in `value_column`, if given) may lag the as-of date by max_lag_days."""

    column: str
    max_lag_days: int
    value_column: str | None = None


@dataclass(frozen=True)
class TableRules:
    """What a raw table must satisfy; see the module doc."""

    columns: Mapping[str, Kind]
    required: tuple[str, ...] = ()  # columns that may hold no missing value
    min_rows: int = 1
    key: tuple[str, ...] = ()
    row_id: str | None = None  # a row with a value here is identified by it alone, not by `key`
    dates: Mapping[str, DateBound] = field(default_factory=dict)
    non_negative: tuple[str, ...] = ()
    codes: Mapping[str, str] = field(default_factory=dict)  # column -> check name (known_materials...)
    series: tuple[str, Calendar] | None = None
    freshness: Freshness | None = None
    loaded_from_files: bool = False  # ERP and INMET archives: rows_loaded applies
    plausible: bool = False  # ERP: values checked against their plausible range and history
    replacement: bool = False  # ERP movements: re-exports replace rows

    def check_names(self) -> list[str]:
        """The checks that apply to this table, in CHECKS order."""
        applies = {
            "schema": True,
            "date_range": bool(self.dates),
            "unique_key": bool(self.key),
            "non_negative": bool(self.non_negative),
            "known_materials": "known_materials" in self.codes.values(),
            "known_sites": "known_sites" in self.codes.values(),
            "known_equipment": "known_equipment" in self.codes.values(),
            "plausible": self.plausible,
            "replacement": self.replacement,
            "no_gaps": self.series is not None,
            "fresh": self.freshness is not None,
            "rows_loaded": self.loaded_from_files,
        }
        return [name for name in CHECKS if applies[name]]


TODAY = DateBound()
WEATHER_COLUMNS: dict[str, Kind] = {
    "date": "date",
    "temp_max": "float",
    "temp_min": "float",
    "temp_avg": "float",
    "humidity_avg": "float",
    "precipitation_mm": "float",
    "wind_speed_max": "float",
    "source": "str",
}
