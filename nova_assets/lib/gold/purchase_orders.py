"""Purchase-order lines with their receipts, for the gold layer's supplier performance.

The ERP's purchase orders (open and received) carry the promise; receipts in the movements that
name a PO (`po_id`) carry the delivery. A line is received on the date of its first receipt that
references it (same PO and material); the received quantity is the sum of those receipts.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import psycopg
from psycopg import sql

from nova_assets.lib.gold.loader import LoadResult, qualified, upsert_changes
from nova_assets.lib.lake import ROW_NUMBER

PURCHASE_ORDERS_TABLE = "analytics.purchase_orders"
# The cycle the whole table is current to (one row): a line's own as_of_date is the cycle whose load
# last changed it, since a load rewrites only the lines that changed.
PURCHASE_ORDERS_AS_OF_TABLE = "analytics.purchase_orders_as_of"
PO_KEY = ["po_id", "material_id"]
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
_DATES = ["order_date", "promised_date", "received_date", "last_received_date"]


def link_receipts(orders: pd.DataFrame, movements: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per (po_id, material_id) of `orders` (the last one when repeated), with its first/last
    receipt date, quantity and count.

    Receipts dated after `as_of` are ignored (the cycle cannot know them yet); a line without a
    receipt is open (received_date null, received_quantity 0).
    """
    dated = {"order_date", "promised_date", "movement_date"}
    frames = [
        frame.assign(
            **{c: pd.to_datetime(frame[c]) for c in dated & set(frame.columns)}, **{ROW_NUMBER: range(len(frame))}
        )
        for frame in (orders, movements)
    ]
    with duckdb.connect() as con:
        return link_lake_receipts(con, con.from_df(frames[0]), con.from_df(frames[1]), as_of)


def link_lake_receipts(
    con: duckdb.DuckDBPyConnection, orders: duckdb.DuckDBPyRelation, movements: duckdb.DuckDBPyRelation, as_of: date
) -> pd.DataFrame:
    """`link_receipts` on DuckDB relations with a ROW_NUMBER column (the lake's tables, `LakeResource.scan`):
    the receipts are aggregated where they are stored; only the linked lines come back to pandas."""
    optional = {c: c if c in orders.columns else "NULL::VARCHAR" for c in ("supplier_id", "site_id")}
    con.register("po_orders", orders)
    con.register("po_movements", movements)
    receipts = (
        "SELECT po_id, material_id, min(day) AS received_date, max(day) AS last_received_date,"
        " coalesce(sum(quantity), 0) AS received_quantity, count(*) AS receipts"
        " FROM (SELECT po_id, material_id, quantity, CAST(movement_date AS DATE) AS day FROM po_movements"
        "       WHERE movement_type = 'receipt' AND po_id IS NOT NULL)"
        f" WHERE day <= DATE '{as_of.isoformat()}' GROUP BY po_id, material_id"
        if "po_id" in movements.columns
        else "SELECT NULL::VARCHAR AS po_id, NULL::VARCHAR AS material_id, NULL::DATE AS received_date,"
        " NULL::DATE AS last_received_date, 0.0 AS received_quantity, 0::BIGINT AS receipts WHERE false"
    )
    linked = con.execute(
        f"""
        WITH lines AS (
            SELECT po_id, material_id, {optional["supplier_id"]} AS supplier_id, {optional["site_id"]} AS site_id,
                   quantity, CAST(order_date AS DATE) AS order_date, CAST(promised_date AS DATE) AS promised_date,
                   {ROW_NUMBER} AS position
            FROM po_orders
            QUALIFY row_number() OVER (PARTITION BY po_id, material_id ORDER BY {ROW_NUMBER} DESC) = 1
        ), receipts AS ({receipts})
        SELECT l.po_id, l.material_id, l.supplier_id, l.site_id, l.quantity, l.order_date, l.promised_date,
               r.received_date, r.last_received_date, coalesce(r.received_quantity, 0.0) AS received_quantity,
               coalesce(r.receipts, 0) AS receipts
        FROM lines AS l LEFT JOIN receipts AS r ON r.po_id = l.po_id AND r.material_id = l.material_id
        ORDER BY l.position
        """
    ).df()
    con.unregister("po_orders")
    con.unregister("po_movements")
    return linked.assign(**{c: linked[c].astype("datetime64[ns]") for c in _DATES}, as_of_date=as_of)[PO_COLUMNS]


def blank_unknown_codes(lines: pd.DataFrame, column: str, known: set[str]) -> tuple[pd.DataFrame, int]:
    """`column` set to null where its code is not in `known` (the gold table's reference), and how many.

    Sites and suppliers are optional on a PO line, and the raw checks do not block unknown ones:
    a line keeps its order and receipts rather than failing the load on a foreign key.
    """
    unknown = lines[column].notna() & ~lines[column].isin(known)
    return lines.assign(**{column: lines[column].where(~unknown, None)}), int(unknown.sum())


def load_lines(conn: psycopg.Connection, lines: pd.DataFrame, as_of: date, run_id: str = "") -> LoadResult:
    """Upsert the linked lines that changed since the last load (new lines, a new receipt, a corrected
    order; not a new as_of_date alone) and stamp the table as of `as_of`, in one transaction."""

    def stamp(cur: psycopg.Cursor) -> None:
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (as_of_date) VALUES (%s)"
                " ON CONFLICT (singleton) DO UPDATE SET as_of_date = EXCLUDED.as_of_date, loaded_at = now()"
            ).format(qualified(PURCHASE_ORDERS_AS_OF_TABLE)),
            (as_of,),
        )

    return upsert_changes(conn, PURCHASE_ORDERS_TABLE, lines, PO_KEY, ["as_of_date"], run_id=run_id, then=stamp)
