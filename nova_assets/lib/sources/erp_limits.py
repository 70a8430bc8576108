"""The ERP import's limits (ErpLimits: the NOVA_ERP_* settings) and the parser of
NOVA_ERP_PLAUSIBLE_LIMITS, checked against the ERP tables' numeric columns.

Apart from the build (`erp_build`: DuckDB, pandas, pyarrow) so that the settings, which take their
defaults and their check from here, import none of those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nova_assets.lib.sources.erp_tables import ERP_TABLES

if TYPE_CHECKING:
    from nova_assets.lib.sources.erp_columns import Column


class SettingError(ValueError):
    """A setting of the ERP import has a value it cannot use; the message names the variable."""


@dataclass(frozen=True)
class ErpLimits:
    """The import's limits: the NOVA_ERP_* settings (nova_assets.settings), whose defaults these are."""

    max_held_back_share: float = 0.01
    replace_gap_days: int = 31
    max_replaced_ratio: float = 2.0
    plausible_factor: float = 20.0
    plausible_limits: Mapping[str, tuple[float | None, float | None] | None] = field(default_factory=dict)

    def limits(self, table: str, column: str, spec: Column) -> tuple[float | None, float | None] | None:
        return self.plausible_limits.get(f"{table}.{column}", spec.limits)


def parse_limits(text: str) -> dict[str, tuple[float | None, float | None] | None]:
    """'erp_movements.quantity=..50000; erp_sites.latitude=-20..-8; erp_materials.unit_cost=none' ->
    per column (low, high); either side may be left open; 'none' removes the column's limit."""
    limits: dict[str, tuple[float | None, float | None] | None] = {}
    for part in filter(None, (p.strip() for p in text.replace(",", ";").split(";"))):
        name, _, bounds = part.partition("=")
        table, _, column = name.strip().partition(".")
        spec = ERP_TABLES.get(table)
        if spec is None or column not in spec.columns or spec.columns[column].kind != "float":
            raise SettingError(
                f"NOVA_ERP_PLAUSIBLE_LIMITS: {name.strip()!r} is not a numeric ERP column (table.column, e.g. "
                "erp_movements.quantity)"
            )
        if bounds.strip().lower() == "none":
            limits[f"{table}.{column}"] = None
            continue
        low, sep, high = bounds.partition("..")
        try:
            parsed = (float(low) if low.strip() else None, float(high) if high.strip() else None)
        except ValueError:
            parsed = (None, None)
        if not sep or parsed == (None, None):
            raise SettingError(f"NOVA_ERP_PLAUSIBLE_LIMITS: {part!r}: expected table.column=LOW..HIGH or =none")
        limits[f"{table}.{column}"] = parsed
    return limits
