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
