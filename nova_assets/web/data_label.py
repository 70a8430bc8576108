"""The dashboard's SYNTHETIC banner: what the gold rows on screen are built from (analytics.data_provenance,
loaded by each cycle with its rows), so the label changes with the rows, not with the lake of the moment."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from psycopg_pool import ConnectionPool

from nova_assets.lib.platform import queries
from nova_assets.lib.sample import is_synthetic
from nova_assets.lib.sources.erp_import import published_provenance
from nova_assets.lib.sources.erp_store import NO_FILES, ErpProvenance

log = logging.getLogger("nova.web")
REFRESH_SECONDS = 30.0  # a cycle loads gold once a day; no page asks the database for the banner


class DataLabel:
    """(the sample's files, all files) for the banner, or None (ErpProvenance.synthetic_share).

    `share` only reads the value in memory, so no page, and no error page rendered on the event loop,
    waits for the database; `refresh` reads the latest cycle's row, from a thread of its own
    (`keep_fresh`). A failed read keeps the last value. Until a cycle has loaded a row (a gold layer
    older than the table), the ERP tables' own record in the lake and the landing folder's marker decide.
    """

    def __init__(self, landing_dir: Path | None, lake_dir: Path | None = None) -> None:
        self._landing_dir, self._lake_dir = landing_dir, lake_dir
        self.share: tuple[int, int] | None = self._without_gold()

    def refresh(self, pool: ConnectionPool) -> None:
        try:
            with pool.connection(timeout=5) as conn:
                row = queries.data_provenance(conn)
            self.share = row.synthetic_share if row else self._without_gold()
        except Exception as error:  # the banner never fails a page: the last value stands
            log.warning("analytics.data_provenance could not be read for the SYNTHETIC banner: %s", error)

    def keep_fresh(self, pool: ConnectionPool, every: float = REFRESH_SECONDS) -> threading.Event:
        """Refresh now and every `every` seconds in a daemon thread, until the returned event is set."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                self.refresh(pool)
                stop.wait(every)

        threading.Thread(target=loop, name="nova-data-label", daemon=True).start()
        return stop

    def _without_gold(self) -> tuple[int, int] | None:
        erp: ErpProvenance = NO_FILES
        if self._lake_dir is not None:
            try:
                erp = published_provenance(self._lake_dir)
            except (OSError, ValueError) as error:
                log.warning("the ERP tables' record could not be read for the SYNTHETIC banner: %s", error)
        return erp.synthetic_share(bool(self._landing_dir and is_synthetic(self._landing_dir)))
