-- Gold layer, version 10: loads that write only what changed.
-- analytics.purchase_orders: a cycle rewrites only the lines that changed (a new line, a new receipt,
-- a corrected order), so a line's as_of_date is the cycle whose load last changed it; the cycle the
-- whole table is current to is kept once, here (marts.supplier_performance reads it).
CREATE TABLE analytics.purchase_orders_as_of (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    as_of_date  date NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO analytics.purchase_orders_as_of (as_of_date)
SELECT max(as_of_date) FROM analytics.purchase_orders HAVING count(*) > 0;
COMMENT ON COLUMN analytics.purchase_orders.as_of_date IS
    'the cycle whose load last changed the line (its receipts known up to then); the table''s own as-of is analytics.purchase_orders_as_of';

-- analytics.forecasts: a month partition created from now on is itself partitioned by day, one
-- partition per cycle, so that a new cycle's rows are copied into a table of their own, indexed once
-- and attached (the foreign key checked by one query) instead of inserted row by row into the month's
-- indexes. Months created before stay plain and are loaded as before; retention still drops months.
CREATE OR REPLACE FUNCTION support.ensure_month_partition(parent regclass, day date) RETURNS regclass
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
            'CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY %s',
            parent_schema, partition_name, parent, pg_get_partkeydef(parent)
        );
        EXECUTE format(
            'ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
            parent, parent_schema, partition_name, month_start, (month_start + interval '1 month')::date
        );
    END IF;
    RETURN to_regclass(format('%I.%I', parent_schema, partition_name));
END
$$;
