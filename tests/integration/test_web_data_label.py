"""The dashboard's SYNTHETIC banner follows the gold rows on screen (analytics.data_provenance), not the
lake of the moment; before any cycle has loaded a row, the landing folder's marker decides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.platform import queries
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.web.data_label import DataLabel
from nova_assets.web.pages import templates


@pytest.fixture
def gold(gold_url: str) -> Iterator[ConnectionPool]:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
    with ConnectionPool(gold_url, min_size=1, max_size=2, open=True) as pool:
        yield pool


def _cycle(pool: ConnectionPool, day: int, files: int, sample: int, landing_is_sample: bool = False) -> None:
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO analytics.data_provenance VALUES (%s, %s, %s, 0, %s, 'described')",
            (dt.date(2026, 12, day), files, sample, landing_is_sample),
        )


class _BusyPool:
    """A pool whose every connection is taken: asking times out."""

    def __init__(self) -> None:
        self.asked = 0

    def connection(self, timeout: float) -> None:
        self.asked += 1
        raise PoolTimeout(f"no connection within {timeout} s")


def _marked(tmp_path: Path) -> Path:
    (tmp_path / SYNTHETIC_MARKER).write_text("generated\n")
    return tmp_path


def _banner(share: tuple[int, int] | None) -> str:
    html = templates.env.get_template("base.html").render(synthetic=share, synthetic_marker=SYNTHETIC_MARKER)
    start = html.find('class="banner synthetic"')
    return "" if start < 0 else html[start : html.index("</div>", start)]


def test_before_any_cycle_the_landing_folders_marker_decides(gold: ConnectionPool, tmp_path: Path) -> None:
    assert DataLabel(None, refresh_seconds=0).share(gold) is None
    share = DataLabel(_marked(tmp_path), refresh_seconds=0).share(gold)
    assert share == (0, 0)
    assert "Dados SINTÉTICOS" in _banner(share) and f"(nota {SYNTHETIC_MARKER} na pasta de entrada)" in _banner(share)


def test_the_label_is_the_latest_cycles_rows_and_changes_with_them(gold: ConnectionPool, tmp_path: Path) -> None:
    label = DataLabel(_marked(tmp_path), refresh_seconds=0)
    _cycle(gold, 1, files=7, sample=7)  # the demo's cycle, its marker since removed
    assert label.share(gold) == (7, 7)
    assert "Dados SINTÉTICOS" in _banner((7, 7)) and "(nota" not in _banner((7, 7))
    _cycle(gold, 2, files=10, sample=7)  # real exports joined the sample's files
    assert label.share(gold) == (7, 10)
    assert "Dados em parte SINTÉTICOS: 7 dos 10 arquivos do ERP" in _banner((7, 10))
    _cycle(gold, 3, files=3, sample=0)  # the sample's files withdrawn: the rows are real now, marker or not
    assert label.share(gold) is None and _banner(None) == ""


def test_the_label_is_read_at_most_once_per_interval(gold: ConnectionPool) -> None:
    label = DataLabel(None, refresh_seconds=3600)
    _cycle(gold, 1, files=7, sample=7)
    assert label.share(gold) == (7, 7)
    _cycle(gold, 2, files=3, sample=0)
    assert label.share(gold) == (7, 7)  # not read again within the hour
    with gold.connection() as conn:
        assert queries.data_provenance(conn).synthetic_share is None


def test_an_unreadable_database_keeps_the_last_label_instead_of_failing_the_page(
    gold: ConnectionPool, tmp_path: Path
) -> None:
    label = DataLabel(_marked(tmp_path), refresh_seconds=0)
    _cycle(gold, 1, files=7, sample=3)
    assert label.share(gold) == (3, 7)
    gold.close()
    assert label.share(gold) == (3, 7)
    busy = _BusyPool()
    waiting = DataLabel(None, refresh_seconds=3600)
    assert waiting.share(busy) is None and waiting.share(busy) is None  # the fallback
    assert busy.asked == 1  # a failed read is not tried again by every page until the interval ends
    with ConnectionPool("postgresql://nobody@127.0.0.1:1/none", min_size=0, max_size=1, open=True) as unreachable:
        assert DataLabel(_marked(tmp_path), refresh_seconds=0).share(unreachable) == (0, 0)
