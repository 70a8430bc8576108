"""analytics.forecasts partitioned by month (migration 0006): an existing database upgrades without
losing a row, the loader creates partitions on demand, and retention drops whole expired months."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest

from nova_assets.defs.gold.base.postgres import GoldRetentionResource, forecasts
from nova_assets.lib import lake
from nova_assets.lib.gold import loader
from nova_assets.lib.gold.loader import replace_cycle, upsert
from nova_assets.lib.gold.partitions import drop_partitions_before, month_partitions
from nova_assets.lib.gold.schema import available, migrate
from nova_assets.resources import LakeResource, PostgresResource

PARTITIONED_AT = 6
COLUMNS = "cycle_date, material_id, forecast_date, model, forecast, forecast_lo, forecast_hi, interval_level"


def _migrate_up_to(conn: psycopg.Connection, version: int) -> None:
    """What `migrate` built before `version + 1` existed: those migrations and their bookkeeping rows."""
    with conn.transaction():
        conn.execute("CREATE SCHEMA support")
        conn.execute(
            "CREATE TABLE support.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for number, name, text in available():
            if number <= version:
                conn.execute(text)
                conn.execute("INSERT INTO support.schema_migrations (version, name) VALUES (%s, %s)", (number, name))


def _reference(conn: psycopg.Connection, materials: list[str]) -> None:
    upsert(
        conn,
        "core.suppliers",
        pd.DataFrame(
            {"supplier_id": ["S1"], "supplier_name": ["F"], "lead_time_mean_days": [10.0], "lead_time_std_days": [1.0]}
        ),
        ["supplier_id"],
    )
    upsert(
        conn,
        "core.materials",
        pd.DataFrame(
            {
                "material_id": materials,
                "description": "peça",
                "category": "RF",
                "unit": "UN",
                "unit_cost": 1.0,
                "criticality": "A",
                "supplier_id": "S1",
            }
        ),
        ["material_id"],
    )


def _forecast_rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(f"SELECT {COLUMNS} FROM analytics.forecasts ORDER BY 1, 2, 3, 4").fetchall()


def _rows_per_partition(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT tableoid::regclass::text, count(*) FROM analytics.forecasts GROUP BY 1").fetchall()
    return dict(rows)


def test_version_5_with_forecasts_upgrades_to_monthly_partitions_without_data_loss(gold_url: str) -> None:
    with psycopg.connect(gold_url) as conn:
        _migrate_up_to(conn, PARTITIONED_AT - 1)
        _reference(conn, ["M1", "M2"])
        assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'analytics.forecasts'::regclass").fetchone() == (
            "r",
        )
        with conn.transaction():
            for cycle in (dt.date(2025, 1, 10), dt.date(2025, 1, 31), dt.date(2025, 2, 1)):
                for material in ("M1", "M2"):
                    for day in (1, 2):
                        conn.execute(
                            f"INSERT INTO analytics.forecasts ({COLUMNS})"
                            " VALUES (%s, %s, %s, 'Ensemble', %s, %s, %s, %s)",
                            (cycle, material, cycle + dt.timedelta(days=day), 1.5 * day, None, None, None)
                            if material == "M1"
                            else (cycle, material, cycle + dt.timedelta(days=day), 2.0, 1.0, 3.0, 0.8),
                        )
        before = _forecast_rows(conn)
        assert len(before) == 12

        assert migrate(conn) == [name for version, name, _ in available() if version >= PARTITIONED_AT]
        assert _forecast_rows(conn) == before
        assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'analytics.forecasts'::regclass").fetchone() == (
            "p",
        )
        assert _rows_per_partition(conn) == {"analytics.forecasts_p2025_01": 8, "analytics.forecasts_p2025_02": 4}
        assert conn.execute("SELECT to_regclass('analytics.forecasts_unpartitioned')").fetchone() == (None,)

        # keys and checks still hold on the partitioned table
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("INSERT INTO analytics.forecasts VALUES ('2025-01-10', 'M9', '2025-01-11', 'Ensemble', 1)")
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute("INSERT INTO analytics.forecasts VALUES ('2025-01-10', 'M1', '2025-01-11', 'Ensemble', 1)")
        with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
            conn.execute("INSERT INTO analytics.forecasts VALUES ('2025-01-11', 'M1', '2025-01-12', 'Ensemble', -1)")

        # the loader creates the next month's partition on demand; a re-run replaces it
        march = dt.date(2025, 3, 5)
        frame = pd.DataFrame(
            {"material_id": ["M1", "M2"], "forecast_date": march + dt.timedelta(days=1), "model": "Ensemble"}
        )
        for level in (1.0, 4.0):
            assert replace_cycle(conn, "analytics.forecasts", march, frame.assign(forecast=level)) == 2
        # a month created since migration 0010 is split by day: the cycle's rows are in its day's partition
        assert _rows_per_partition(conn)["analytics.forecasts_p2025_03_05"] == 2
        assert (
            conn.execute("SELECT max(forecast) FROM analytics.forecasts WHERE cycle_date = %s", (march,)).fetchone()[0]
            == 4.0
        )
        assert [p.name for p in month_partitions(conn, "analytics.forecasts")] == [
            "forecasts_p2025_01",
            "forecasts_p2025_02",
            "forecasts_p2025_03",
        ]


def test_a_new_month_partition_does_not_wait_for_open_readers(gold_url: str) -> None:
    """ATTACH, not CREATE TABLE ... PARTITION OF: a reader's open transaction does not hold the load back."""
    with psycopg.connect(gold_url) as conn, psycopg.connect(gold_url) as reader:
        migrate(conn)
        _reference(conn, ["M1"])
        frame = pd.DataFrame({"material_id": ["M1"], "forecast_date": [dt.date(2025, 1, 2)], "model": "E"})
        replace_cycle(conn, "analytics.forecasts", dt.date(2025, 1, 1), frame.assign(forecast=1.0))
        assert reader.execute("SELECT count(*) FROM analytics.forecasts").fetchone() == (1,)  # transaction left open
        conn.execute("SET lock_timeout = '2s'")  # a lock conflict fails the load instead of waiting forever
        conn.commit()
        replace_cycle(conn, "analytics.forecasts", dt.date(2025, 2, 1), frame.assign(forecast=2.0))
        assert reader.execute("SELECT count(*) FROM analytics.forecasts").fetchone() == (2,)


def test_drop_partitions_before_keeps_a_partly_recent_month(gold_url: str) -> None:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
        _reference(conn, ["M1"])
        for cycle in (dt.date(2025, 1, 31), dt.date(2025, 2, 14), dt.date(2025, 3, 1)):
            frame = pd.DataFrame({"material_id": ["M1"], "forecast_date": [cycle], "model": "E", "forecast": 1.0})
            replace_cycle(conn, "analytics.forecasts", cycle, frame)
        assert drop_partitions_before(conn, "analytics.forecasts", dt.date(2025, 1, 31)) == []
        # 2025-02-14 is before the cutoff but 2025-02-28 is not: February stays whole
        assert drop_partitions_before(conn, "analytics.forecasts", dt.date(2025, 2, 15)) == [
            "analytics.forecasts_p2025_01"
        ]
        cycles = [r[0] for r in conn.execute("SELECT cycle_date FROM analytics.forecasts ORDER BY 1")]
        assert cycles == [dt.date(2025, 2, 14), dt.date(2025, 3, 1)]


def _write_forecast(lake_dir: Path, cycle: dt.date) -> None:
    days = [pd.Timestamp(cycle + dt.timedelta(days=d)) for d in (1, 2, 3)]
    frame = pd.DataFrame(
        {
            "unique_id": "M1",
            "ds": days,
            "model": "Ensemble",
            "forecast": 2.0,
            "forecast_lo": 1.0,
            "forecast_hi": 3.0,
            "interval_level": 0.8,
        }
    )
    lake.write_table(lake_dir, "forecast", "ensemble", frame)


@pytest.mark.parametrize(
    ("retention", "kept"), [("45", ["2025_02", "2025_03"]), ("0", ["2025_01", "2025_02", "2025_03"])]
)
def test_forecasts_asset_drops_partitions_past_retention_after_the_load(
    gold_url: str, tmp_path: Path, retention: str, kept: list[str]
) -> None:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
        _reference(conn, ["M1"])
    resources = {
        "lake": LakeResource(lake_dir=str(tmp_path)),
        "gold": PostgresResource(url=gold_url),
        "gold_retention": GoldRetentionResource(forecast_retention_days=retention),
    }
    for cycle in (dt.date(2025, 1, 10), dt.date(2025, 2, 10), dt.date(2025, 3, 31)):
        _write_forecast(tmp_path, cycle)
        result = dg.materialize([forecasts], resources=resources)
        assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    # after the 2025-03-31 cycle with 45 days: every cycle of January is before 2025-02-14
    dropped = "analytics.forecasts_p2025_01" if retention == "45" else "none"
    assert metadata["partitions_dropped"].value == dropped
    assert metadata["rows"].value == 3 and metadata["partitions"].value == len(kept)
    with psycopg.connect(gold_url) as conn:
        assert [p.name for p in month_partitions(conn, "analytics.forecasts")] == [f"forecasts_p{m}" for m in kept]
        assert conn.execute("SELECT count(*) FROM analytics.forecasts").fetchone()[0] == 3 * len(kept)


def test_negative_retention_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        _ = GoldRetentionResource(forecast_retention_days="-1").forecast_days


def test_a_new_cycle_is_attached_as_its_own_day_partition_with_the_tables_keys(
    gold_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load of a cycle copies its rows into a table of their own and attaches it: the partition
    has the parent's primary key, index and foreign key, and a load that breaks one of them leaves nothing."""
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
        _reference(conn, ["M1", "M2"])
        cycle = dt.date(2025, 3, 5)
        frame = pd.DataFrame(
            {
                "material_id": ["M1", "M1", "M2"],
                "forecast_date": [cycle + dt.timedelta(days=d) for d in (1, 2, 1)],
                "model": "Ensemble",
                "forecast": [1.0, 2.0, 3.0],
            }
        )
        seen_mid_load: list[int] = []
        original = loader._audit

        def audit_then_peek(cur: psycopg.Cursor, *args: object) -> None:
            with psycopg.connect(gold_url) as reader:  # attached, not committed
                seen_mid_load.append(reader.execute("SELECT count(*) FROM analytics.forecasts").fetchone()[0])
            original(cur, *args)

        with monkeypatch.context() as patch:
            patch.setattr(loader, "_audit", audit_then_peek)
            assert replace_cycle(conn, "analytics.forecasts", cycle, frame) == 3
        assert seen_mid_load == [0]
        assert _rows_per_partition(conn) == {"analytics.forecasts_p2025_03_05": 3}
        leaf = "'analytics.forecasts_p2025_03_05'::regclass"
        assert conn.execute(f"SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = {leaf}").fetchone() == (
            "FOR VALUES FROM ('2025-03-05') TO ('2025-03-06')",
        )
        assert conn.execute(
            f"SELECT contype, convalidated FROM pg_constraint WHERE conrelid = {leaf} AND contype IN"
            " ('p', 'f') ORDER BY 1"
        ).fetchall() == [("f", True), ("p", True)]
        assert conn.execute(f"SELECT count(*) FROM pg_index WHERE indrelid = {leaf}").fetchone() == (2,)
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            conn.execute("INSERT INTO analytics.forecasts VALUES ('2025-03-05', 'M1', '2025-03-06', 'Ensemble', 1)")
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("INSERT INTO analytics.forecasts VALUES ('2025-03-05', 'M9', '2025-03-06', 'Ensemble', 1)")

        broken = {
            psycopg.errors.UniqueViolation: pd.concat([frame, frame.iloc[[0]]]),  # a key twice
            psycopg.errors.ForeignKeyViolation: frame.assign(material_id=["M1", "M1", "M9"]),  # unknown material
            psycopg.errors.CheckViolation: frame.assign(forecast=[1.0, -1.0, 3.0]),
        }
        for error, rows in broken.items():
            with pytest.raises(error):
                replace_cycle(conn, "analytics.forecasts", cycle + dt.timedelta(days=1), rows)
            assert conn.execute("SELECT to_regclass('analytics.forecasts_p2025_03_06')").fetchone() == (None,)
        assert _rows_per_partition(conn) == {"analytics.forecasts_p2025_03_05": 3}
        statuses = conn.execute(
            "SELECT status FROM support.load_audit WHERE table_name = 'analytics.forecasts' ORDER BY load_id"
        ).fetchall()
        assert [s for (s,) in statuses] == ["committed", "failed", "failed", "failed"]
