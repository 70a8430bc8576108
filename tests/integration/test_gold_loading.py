"""Gold loads through staging: idempotent, atomic (a failure mid-load leaves the previous cycle
readable and intact), invisible to readers until committed, and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from nova_assets.lib.gold import loader
from nova_assets.lib.gold.loader import Scope, replace_cycle, replace_rows, upsert
from nova_assets.lib.gold.schema import migrate

CYCLE = dt.date(2025, 1, 10)
MATERIALS = [f"M{i:03d}" for i in range(40)]


@pytest.fixture
def gold(gold_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
        upsert(
            conn,
            "core.suppliers",
            pd.DataFrame(
                {
                    "supplier_id": ["S1"],
                    "supplier_name": ["Fornecedor"],
                    "lead_time_mean_days": [10.0],
                    "lead_time_std_days": [2.0],
                }
            ),
            ["supplier_id"],
        )
        upsert(
            conn,
            "core.materials",
            pd.DataFrame(
                {
                    "material_id": MATERIALS,
                    "description": "peça",
                    "category": "RF",
                    "unit": "UN",
                    "unit_cost": 10.0,
                    "criticality": "A",
                    "supplier_id": "S1",
                }
            ),
            ["material_id"],
        )
        conn.commit()
        yield conn


def _forecasts(level: float, days: int = 30) -> pd.DataFrame:
    rows = [(m, CYCLE + dt.timedelta(days=d), "Ensemble", level) for m in MATERIALS for d in range(1, days + 1)]
    return pd.DataFrame(rows, columns=["material_id", "forecast_date", "model", "forecast"])


def _cycle(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "SELECT material_id, forecast_date, forecast FROM analytics.forecasts WHERE cycle_date = %s"
        " ORDER BY material_id, forecast_date",
        (CYCLE,),
    ).fetchall()
    return pd.DataFrame(rows, columns=["material_id", "forecast_date", "forecast"])


def _audit(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT table_name, status, rows_staged, rows_deleted, rows_written, error FROM support.load_audit"
        " WHERE table_name = 'analytics.forecasts' ORDER BY load_id"
    ).fetchall()


def test_rerunning_a_cycle_replaces_it_without_duplicates(gold: psycopg.Connection) -> None:
    for _ in range(3):
        assert replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(1.0), run_id="run-a") == 1200
    replace_cycle(gold, "analytics.forecasts", CYCLE + dt.timedelta(days=1), _forecasts(2.0))
    counts = gold.execute(
        "SELECT cycle_date, count(*), count(DISTINCT (material_id, forecast_date))"
        " FROM analytics.forecasts GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert counts == [(CYCLE, 1200, 1200), (CYCLE + dt.timedelta(days=1), 1200, 1200)]
    audit = _audit(gold)
    assert [a[1] for a in audit] == ["committed"] * 4
    assert audit[1][2:5] == (1200, 1200, 1200)  # the second run deleted the first run's rows
    # the landing of the last load stays for inspection: a new cycle's is its own day partition (copied
    # there, not into staging), a re-run's is in staging
    assert gold.execute("SELECT count(*) FROM staging.analytics__forecasts").fetchone()[0] == 0
    assert gold.execute("SELECT count(*) FROM analytics.forecasts_p2025_01_11").fetchone()[0] == 1200
    replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(1.0), run_id="run-a")
    assert gold.execute("SELECT count(*) FROM staging.analytics__forecasts").fetchone()[0] == 1200


@pytest.mark.parametrize(
    "breakage",
    [
        "null_in_copy",  # COPY into staging fails half-way (NOT NULL): nothing was deleted yet
        "check_at_swap",  # staging accepts it, the insert after the DELETE violates CHECK (forecast >= 0)
    ],
)
def test_failure_mid_load_leaves_previous_cycle_intact(gold: psycopg.Connection, breakage: str) -> None:
    replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(1.0))
    before = _cycle(gold)
    bad = _forecasts(5.0)
    bad.loc[700, "forecast"] = None if breakage == "null_in_copy" else -1.0  # after 700 good rows
    with pytest.raises(psycopg.errors.IntegrityError):
        replace_cycle(gold, "analytics.forecasts", CYCLE, bad, run_id="run-bad")
    pd.testing.assert_frame_equal(_cycle(gold), before)
    with psycopg.connect(gold.info.dsn, password=gold.info.password) as other:  # what a reader sees
        pd.testing.assert_frame_equal(_cycle(other), before)
    failed = _audit(gold)[-1]
    assert failed[1] == "failed" and failed[2] == 1200 and failed[4] is None
    assert "violates" in failed[5]


def test_readers_see_the_old_cycle_until_the_new_one_commits(
    gold: psycopg.Connection, gold_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(1.0, days=10))
    seen_mid_load: list[tuple] = []
    original = loader._audit

    def audit_then_peek(cur: psycopg.Cursor, *args: object) -> None:
        with psycopg.connect(gold_url) as reader:  # the load's transaction has deleted and inserted, not committed
            seen_mid_load.append(
                reader.execute(
                    "SELECT count(*), max(forecast) FROM analytics.forecasts WHERE cycle_date = %s", (CYCLE,)
                ).fetchone()
            )
        original(cur, *args)

    monkeypatch.setattr(loader, "_audit", audit_then_peek)
    replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(3.0, days=30))
    assert seen_mid_load == [(400, 1.0)]
    after = gold.execute(
        "SELECT count(*), max(forecast) FROM analytics.forecasts WHERE cycle_date = %s", (CYCLE,)
    ).fetchone()
    assert after == (1200, 3.0)


def test_upsert_and_range_replace_through_staging(gold: psycopg.Connection) -> None:
    frame = pd.DataFrame(
        {
            "supplier_id": ["S1", "S2"],
            "supplier_name": ["Novo nome", "Outro"],
            "lead_time_mean_days": [11.0, 5.0],
            "lead_time_std_days": [1.0, 1.0],
        }
    )
    assert upsert(gold, "core.suppliers", frame, ["supplier_id"]) == 2
    assert upsert(gold, "core.suppliers", frame, ["supplier_id"]) == 2
    assert gold.execute("SELECT supplier_id, supplier_name FROM core.suppliers ORDER BY 1").fetchall() == [
        ("S1", "Novo nome"),
        ("S2", "Outro"),
    ]
    # a scope with equals + between replaces exactly those rows
    replace_cycle(gold, "analytics.forecasts", CYCLE, _forecasts(1.0, days=10))
    window = _forecasts(9.0, days=10)
    window = window[window["forecast_date"] <= CYCLE + dt.timedelta(days=3)].assign(cycle_date=CYCLE)
    scope = Scope(
        equals={"cycle_date": CYCLE},
        between={"forecast_date": (CYCLE + dt.timedelta(days=1), CYCLE + dt.timedelta(days=3))},
    )
    result = replace_rows(gold, "analytics.forecasts", window, scope)
    assert (result.rows_deleted, result.rows_written) == (120, 120)
    by_level = dict(gold.execute("SELECT forecast, count(*) FROM analytics.forecasts GROUP BY 1").fetchall())
    assert by_level == {9.0: 120, 1.0: 280}


def test_copy_writes_every_value_type_as_postgres_reads_it(gold: psycopg.Connection) -> None:
    """The CSV that COPY reads: nulls of every kind, dates, naive and zoned timestamps (the instant
    kept, not the wall time), booleans, and an object column of mixed values as each value's text."""
    frame = pd.DataFrame(
        {
            "code": ["A", None, "C"],
            "day": [dt.date(2025, 1, 2), None, dt.date(2025, 3, 4)],
            "quantity": [1.5, float("nan"), 2.0],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "naive": pd.to_datetime(["2025-01-01 10:00:00", None, "2025-01-02 00:00:00.25"], format="ISO8601"),
            "zoned": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 11:00", None]).tz_localize("America/Bahia"),
            "flag": [True, False, True],
            "mixed": [1, 'a, "b"', None],
        }
    )
    with gold.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE copy_probe (code text, day date, quantity double precision, count bigint,"
            " naive timestamp, zoned timestamptz, flag boolean, mixed text)"
        )
        loader._copy_rows(cur, psycopg.sql.Identifier("copy_probe"), frame)
        rows = cur.execute(
            "SELECT code, day, quantity, count, naive, zoned AT TIME ZONE 'UTC', flag, mixed FROM copy_probe"
        ).fetchall()
    gold.rollback()
    assert rows == [
        ("A", dt.date(2025, 1, 2), 1.5, 1, dt.datetime(2025, 1, 1, 10), dt.datetime(2025, 1, 1, 13), True, "1"),
        (None, None, None, None, None, dt.datetime(2025, 1, 1, 14), False, 'a, "b"'),
        ("C", dt.date(2025, 3, 4), 2.0, 3, dt.datetime(2025, 1, 2, 0, 0, 0, 250000), None, True, None),
    ]
