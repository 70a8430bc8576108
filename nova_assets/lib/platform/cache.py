"""An in-process cache of alert pages, the one read the load bench showed needed it (bench/api_load.py).

Alerts change only when a cycle loads gold or a planner acts on one, so an entry is keyed by the
query and by a data version read in one cheap query: the latest committed load of the alert and
reorder-point tables and the latest alert action. A new load or action changes the version; the
stale entries are never read again and fall out of the bounded LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import psycopg

from nova_assets.lib.platform import queries

VERSION_SQL = (
    "SELECT (SELECT max(load_id) FROM support.load_audit WHERE status = 'committed'"
    " AND table_name IN ('analytics.alerts', 'analytics.reorder_points')),"
    " (SELECT max(action_id) FROM support.alert_actions)"
)


class AlertPages:
    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[tuple, queries.Page] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, conn: psycopg.Connection, flt: queries.AlertFilter, paging: queries.Paging) -> queries.Page:
        version = conn.execute(VERSION_SQL).fetchone()
        key = (version, flt.cycle_date, tuple(flt.severity or ()), flt.material_id, flt.q, flt.site_id, flt.state,
               flt.category, flt.criticality, flt.demand_class, flt.status, paging.limit, paging.offset)  # fmt: skip
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        page = queries.alerts(conn, flt, paging)
        with self._lock:
            self._entries[key] = page
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return page
