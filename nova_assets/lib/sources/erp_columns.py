"""The vocabulary of the ERP data contract: a column, a table, and the columns several tables share.

Kept apart from `erp_tables` (the table registry) so that a domain declaring its own ERP tables
(`lib.maintenance.contracts`) can use it while `erp_tables` registers those tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "float", "date"]


@dataclass(frozen=True)
class Column:
    """One canonical column: its type, whether a file must have it, and the names it goes by."""

    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: Mapping[str, str] | None = None  # accepted spellings (normalised) -> canonical value
    nonnegative: bool = False
    positive: bool = False
    default: str | None = None  # value used when the file lacks the column
    not_before: str | None = None  # a date column this date may not precede (promised before ordered)
    code: bool = (
        False  # a master's code: compared case-insensitively ('mat-1' is MAT-1), stored as the master spells it
    )
    limits: tuple[float | None, float | None] | None = None  # plausible range (NOVA_ERP_PLAUSIBLE_LIMITS)
    history_by: tuple[str, ...] = ()  # plausible against the history of the same values of these columns


@dataclass(frozen=True)
class RowRule:
    """A rule over several typed columns of one row (`condition`, DuckDB SQL, true when the row breaks
    it); a row breaking it is quarantined with `reason`."""

    condition: str
    reason: str


@dataclass(frozen=True)
class TableSpec:
    """A raw table: its columns, the key that must be unique, and the file names that hold it."""

    columns: Mapping[str, Column]
    key: tuple[str, ...] = ()  # rows lacking a key value (an optional key column left blank) are not compared
    file_words: tuple[str, ...] = ()
    row_rules: tuple[RowRule, ...] = ()


MATERIAL_COLUMN = Column(
    "str", True, ("material", "codigo_material", "cod_material", "item_id", "item", "sku", "material_code"), code=True
)
SITE_COLUMN = Column(
    "str",
    True,
    ("site", "deposito", "local", "codigo_site", "cod_site", "codigo_local", "cod_deposito", "location", "location_id"),
    code=True,
)
QUANTITY_ALIASES = ("quantidade", "qtd", "qtde", "qty", "quant")
