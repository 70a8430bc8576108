"""The dashboard's SYNTHETIC banner: what the gold rows on screen are built from (analytics.data_provenance,
loaded by each cycle with its rows), so the label changes with the rows, not with the lake of the moment."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from psycopg_pool import ConnectionPool

from nova_assets.lib.platform import queries
from nova_assets.lib.sample import is_synthetic
from nova_assets.lib.sources.erp_store import NO_FILES

log = logging.getLogger("nova.web")
REFRESH_SECONDS = 30.0  # a cycle loads gold once a day; a page need not ask the database each time


class DataLabel:
    """(the sample's files, all files) for the banner, or None (see ErpProvenance.synthetic_share).

    Read at most every `refresh_seconds` by one request at a time, on a connection of its own taken
    without waiting long (the pool may be busy with requests): the others show the last value meanwhile,
    and a failed read keeps it until the next try. Before any cycle has loaded a row, the landing
    folder's marker decides."""

    def __init__(self, landing_dir: Path | None, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._fallback = NO_FILES.synthetic_share(bool(landing_dir and is_synthetic(landing_dir)))
        self._share = self._fallback
        self._read_at: float | None = None
        self._refresh_seconds = refresh_seconds
        self._reading = threading.Lock()

    def share(self, pool: ConnectionPool) -> tuple[int, int] | None:
        due = self._read_at is None or time.monotonic() - self._read_at >= self._refresh_seconds
        if due and self._reading.acquire(blocking=False):
            try:
                with pool.connection(timeout=2) as conn:
                    row = queries.data_provenance(conn)
                self._share = row.synthetic_share if row else self._fallback
            except Exception as error:  # the banner never fails a page: the last value stands
                log.warning("analytics.data_provenance could not be read for the SYNTHETIC banner: %s", error)
            finally:  # a failed read is tried again after the interval too, not by every page meanwhile
                self._read_at = time.monotonic()
                self._reading.release()
        return self._share
