-- Gold layer, version 5: purchase-order lines with their receipts (the ERP's PO <-> receipt link).
-- Upserted by (po_id, material_id) each cycle, so a line keeps its history when a later export no
-- longer lists it. as_of_date: the cycle whose load last wrote the line (its receipts are known up to then).
CREATE TABLE analytics.purchase_orders (
    po_id               text NOT NULL,
    material_id         text NOT NULL REFERENCES core.materials (material_id),
    supplier_id         text REFERENCES core.suppliers (supplier_id),
    site_id             text REFERENCES core.sites (site_id),
    quantity            double precision NOT NULL CHECK (quantity >= 0),
    order_date          date NOT NULL,
    promised_date       date NOT NULL,
    received_date       date,
    last_received_date  date,
    received_quantity   double precision NOT NULL DEFAULT 0 CHECK (received_quantity >= 0),
    receipts            integer NOT NULL DEFAULT 0 CHECK (receipts >= 0),
    as_of_date          date NOT NULL,
    PRIMARY KEY (po_id, material_id),
    CHECK ((received_date IS NULL) = (receipts = 0))
);
CREATE INDEX purchase_orders_supplier_idx ON analytics.purchase_orders (supplier_id, promised_date);
CREATE INDEX purchase_orders_material_idx ON analytics.purchase_orders (material_id, order_date);
