"""Purchase-order lines with their receipts, for the gold layer's supplier performance.

The ERP's purchase orders (open and received) carry the promise; receipts in the movements that
name a PO (`po_id`) carry the delivery. A line is received on the date of its first receipt that
references it (same PO and material); the received quantity is the sum of those receipts.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from nova_assets.lib.lake import RowFilters

PO_KEY = ["po_id", "material_id"]
# The movement rows link_receipts uses, as row filters of a lake read (a fifth of the movements)
RECEIPTS: RowFilters = [("movement_type", "==", "receipt")]
PO_COLUMNS = [
    "po_id",
    "material_id",
    "supplier_id",
    "site_id",
    "quantity",
    "order_date",
    "promised_date",
    "received_date",
    "last_received_date",
    "received_quantity",
    "receipts",
    "as_of_date",
]


def link_receipts(orders: pd.DataFrame, movements: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per (po_id, material_id) of `orders`, with its first/last receipt date, quantity and count.

    Receipts dated after `as_of` are ignored (the cycle cannot know them yet); a line without a
    receipt is open (received_date null, received_quantity 0).
    """
    lines = orders.drop_duplicates(PO_KEY, keep="last").copy()
    for column in ("order_date", "promised_date"):  # datetime64 at midnight: the gold columns are dates
        lines[column] = pd.to_datetime(lines[column]).dt.normalize()
    for column in ("supplier_id", "site_id"):  # nullable in the contract; older exports may lack them
        if column not in lines.columns:
            lines[column] = None
    receipts = _receipts_by_line(movements, as_of)
    linked = lines.merge(receipts, on=PO_KEY, how="left")
    linked["received_quantity"] = linked["received_quantity"].fillna(0.0)
    linked["receipts"] = linked["receipts"].fillna(0).astype(int)
    return linked.assign(as_of_date=as_of)[PO_COLUMNS]


def _receipts_by_line(movements: pd.DataFrame, as_of: date) -> pd.DataFrame:
    columns = {
        "received_date": pd.Series(dtype="datetime64[ns]"),
        "last_received_date": pd.Series(dtype="datetime64[ns]"),
        "received_quantity": [],
        "receipts": [],
    }
    if "po_id" not in movements.columns:
        return pd.DataFrame({**{k: [] for k in PO_KEY}, **columns})
    dated = pd.to_datetime(movements["movement_date"]).dt.normalize()
    keep = (movements["movement_type"] == "receipt") & movements["po_id"].notna() & (dated <= pd.Timestamp(as_of))
    receipts = movements.loc[keep, [*PO_KEY, "quantity"]].assign(movement_date=dated[keep])
    lines = receipts.groupby(PO_KEY, as_index=False).agg(
        received_date=("movement_date", "min"),
        last_received_date=("movement_date", "max"),
        received_quantity=("quantity", "sum"),
        receipts=("quantity", "size"),
    )
    return lines


def blank_unknown_codes(lines: pd.DataFrame, column: str, known: set[str]) -> tuple[pd.DataFrame, int]:
    """`column` set to null where its code is not in `known` (the gold table's reference), and how many.

    Sites and suppliers are optional on a PO line, and the raw checks do not block unknown ones:
    a line keeps its order and receipts rather than failing the load on a foreign key.
    """
    unknown = lines[column].notna() & ~lines[column].isin(known)
    return lines.assign(**{column: lines[column].where(~unknown, None)}), int(unknown.sum())
