-- Gold layer, version 6: analytics.forecasts, the table that grows most (every cycle writes every
-- model's horizon for every material), becomes RANGE-partitioned by month of cycle_date, so that
-- retention drops whole months and a material's latest forecast reads one partition.
-- The existing rows are copied into their months' partitions inside this migration's transaction;
-- the columns, keys, checks, the FK to core.materials and the indexes stay as they were.

-- The month's partition of `parent` holding `day`, created when missing (named <parent>_pYYYY_MM).
-- A plain table attached afterwards: ATTACH takes a SHARE UPDATE EXCLUSIVE lock on the parent, so
-- readers are never blocked (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE).
CREATE FUNCTION support.ensure_month_partition(parent regclass, day date) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    month_start constant date := date_trunc('month', day)::date;
    parent_schema text;
    partition_name text;
BEGIN
    SELECT n.nspname, c.relname || to_char(month_start, '"_p"YYYY"_"MM')
    INTO parent_schema, partition_name
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = parent;
    IF to_regclass(format('%I.%I', parent_schema, partition_name)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
            parent_schema, partition_name, parent
        );
        EXECUTE format(
            'ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
            parent, parent_schema, partition_name, month_start, (month_start + interval '1 month')::date
        );
    END IF;
    RETURN to_regclass(format('%I.%I', parent_schema, partition_name));
END
$$;

ALTER TABLE analytics.forecasts RENAME TO forecasts_unpartitioned;
ALTER INDEX analytics.forecasts_pkey RENAME TO forecasts_unpartitioned_pkey;
ALTER INDEX analytics.forecasts_material_idx RENAME TO forecasts_unpartitioned_material_idx;

CREATE TABLE analytics.forecasts (
    cycle_date      date NOT NULL,
    material_id     text NOT NULL REFERENCES core.materials (material_id),
    forecast_date   date NOT NULL,
    model           text NOT NULL,
    forecast        double precision NOT NULL CHECK (forecast >= 0),
    forecast_lo     double precision CHECK (forecast_lo >= 0),
    forecast_hi     double precision,
    interval_level  double precision CHECK (interval_level > 0 AND interval_level < 1),
    PRIMARY KEY (cycle_date, material_id, model, forecast_date)
) PARTITION BY RANGE (cycle_date);
CREATE INDEX forecasts_material_idx ON analytics.forecasts (material_id, cycle_date);

SELECT support.ensure_month_partition('analytics.forecasts', month)
FROM (SELECT DISTINCT date_trunc('month', cycle_date)::date AS month FROM analytics.forecasts_unpartitioned) AS months;

INSERT INTO analytics.forecasts
    (cycle_date, material_id, forecast_date, model, forecast, forecast_lo, forecast_hi, interval_level)
SELECT cycle_date, material_id, forecast_date, model, forecast, forecast_lo, forecast_hi, interval_level
FROM analytics.forecasts_unpartitioned;

DROP TABLE analytics.forecasts_unpartitioned;
