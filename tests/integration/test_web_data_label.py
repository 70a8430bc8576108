"""The dashboard's SYNTHETIC banner follows the gold rows on screen (analytics.data_provenance), not the
lake of the moment; before any cycle has loaded a row, the ERP tables' record and the landing marker decide."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.lake_tables import raw
from nova_assets.lib.platform import queries
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.lib.sources.quality import BUILT_FROM, write_status
from nova_assets.web.data_label import DataLabel
from nova_assets.web.pages import templates


@pytest.fixture
def gold(gold_url: str) -> Iterator[ConnectionPool]:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
    with ConnectionPool(gold_url, min_size=1, max_size=2, open=True) as pool:
        yield pool


class _BusyPool:
    """A pool whose every connection is taken: asking times out."""

    def connection(self, timeout: float) -> None:
        raise PoolTimeout(f"no connection within {timeout} s")


def _cycle(pool: ConnectionPool, day: int, files: int, sample: int, landing_is_sample: bool = False) -> None:
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO analytics.data_provenance VALUES (%s, %s, %s, 0, %s, 'described')",
            (dt.date(2026, 12, day), files, sample, landing_is_sample),
        )


def _marked(tmp_path: Path) -> Path:
    (tmp_path / SYNTHETIC_MARKER).write_text("generated\n")
    return tmp_path


def _banner(share: tuple[int, int] | None) -> str:
    html = templates.env.get_template("base.html").render(synthetic=share, synthetic_marker=SYNTHETIC_MARKER)
    start = html.find('class="banner synthetic"')
    return "" if start < 0 else html[start : html.index("</div>", start)]


def test_before_any_cycle_the_lakes_record_and_the_marker_decide(gold: ConnectionPool, tmp_path: Path) -> None:
    label = DataLabel(None)
    label.refresh(gold)
    assert label.share is None
    label = DataLabel(_marked(tmp_path))
    label.refresh(gold)
    assert label.share == (0, 0)
    assert "Dados SINTÉTICOS" in _banner((0, 0)) and f"(nota {SYNTHETIC_MARKER} na pasta de entrada)" in _banner((0, 0))
    lake = tmp_path / "lake"  # a gold layer older than the table, over tables built from a demo and real exports
    write_status(lake, "erp_movements", {BUILT_FROM: {"files": 4, "synthetic": 3, "unrecorded": 0}})
    (lake / raw("erp_movements").path).parent.mkdir(parents=True)
    (lake / raw("erp_movements").path).write_bytes(b"")
    label = DataLabel(None, lake)
    label.refresh(gold)
    assert label.share == (3, 4)


def test_the_label_is_the_latest_cycles_rows_and_changes_with_them(gold: ConnectionPool, tmp_path: Path) -> None:
    label = DataLabel(_marked(tmp_path))
    _cycle(gold, 1, files=7, sample=7)  # the demo's cycle, its marker since removed
    label.refresh(gold)
    assert label.share == (7, 7)
    assert "Dados SINTÉTICOS" in _banner((7, 7)) and "(nota" not in _banner((7, 7))
    _cycle(gold, 2, files=10, sample=7)  # real exports joined the sample's files
    label.refresh(gold)
    assert label.share == (7, 10)
    assert "Dados em parte SINTÉTICOS: 7 dos 10 arquivos do ERP" in _banner((7, 10))
    _cycle(gold, 3, files=3, sample=0)  # the sample's files withdrawn: the rows are real now, marker or not
    label.refresh(gold)
    assert label.share is None and _banner(None) == ""


def test_a_thread_keeps_the_label_fresh_and_a_page_never_waits_for_it(gold: ConnectionPool) -> None:
    label = DataLabel(None)
    stop = label.keep_fresh(gold, every=0.05)
    try:
        _cycle(gold, 1, files=7, sample=7)
        deadline = time.monotonic() + 10
        while label.share != (7, 7) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert label.share == (7, 7)
    finally:
        stop.set()


def test_an_unreadable_database_keeps_the_last_label(gold: ConnectionPool) -> None:
    label = DataLabel(None)
    _cycle(gold, 1, files=7, sample=3)
    label.refresh(gold)
    assert label.share == (3, 7)
    label.refresh(_BusyPool())
    assert label.share == (3, 7)


def test_a_gold_layer_without_the_table_reads_as_no_row_and_the_connection_goes_on(gold_url: str) -> None:
    with psycopg.connect(gold_url) as conn:  # not migrated: /api/v1/health must not call the database down
        assert queries.data_provenance(conn) is None
        assert conn.execute("SELECT 1").fetchone() == (1,)
