-- Gold layer, version 3: regions, site-level inventory, purchase orders, segments, clusters,
-- recommendations, forecast intervals, and the load audit / data-quality log.
-- Additive only: every existing row survives (new columns are nullable, new FKs on old rows NOT VALID).

-- Regions: the 27 federative units (IBGE) and the 27 Territórios de Identidade of Bahia (SEPLAN-BA).
-- ERP region names that match no território are added by the loader with source 'ERP'.
CREATE TABLE core.regions (
    region_code   text PRIMARY KEY,
    name          text NOT NULL,
    level         text NOT NULL CHECK (level IN ('state', 'region')),
    state_code    text NOT NULL REFERENCES core.regions (region_code),
    ibge_code     text,
    macro_region  text,
    source        text NOT NULL,
    aliases       text[] NOT NULL DEFAULT '{}',
    UNIQUE (state_code, level, name),
    CHECK (level <> 'state' OR state_code = region_code)
);

INSERT INTO core.regions (region_code, name, level, state_code, ibge_code, macro_region, source) VALUES
    ('AC', 'Acre', 'state', 'AC', '12', 'Norte', 'IBGE'),
    ('AL', 'Alagoas', 'state', 'AL', '27', 'Nordeste', 'IBGE'),
    ('AP', 'Amapá', 'state', 'AP', '16', 'Norte', 'IBGE'),
    ('AM', 'Amazonas', 'state', 'AM', '13', 'Norte', 'IBGE'),
    ('BA', 'Bahia', 'state', 'BA', '29', 'Nordeste', 'IBGE'),
    ('CE', 'Ceará', 'state', 'CE', '23', 'Nordeste', 'IBGE'),
    ('DF', 'Distrito Federal', 'state', 'DF', '53', 'Centro-Oeste', 'IBGE'),
    ('ES', 'Espírito Santo', 'state', 'ES', '32', 'Sudeste', 'IBGE'),
    ('GO', 'Goiás', 'state', 'GO', '52', 'Centro-Oeste', 'IBGE'),
    ('MA', 'Maranhão', 'state', 'MA', '21', 'Nordeste', 'IBGE'),
    ('MT', 'Mato Grosso', 'state', 'MT', '51', 'Centro-Oeste', 'IBGE'),
    ('MS', 'Mato Grosso do Sul', 'state', 'MS', '50', 'Centro-Oeste', 'IBGE'),
    ('MG', 'Minas Gerais', 'state', 'MG', '31', 'Sudeste', 'IBGE'),
    ('PA', 'Pará', 'state', 'PA', '15', 'Norte', 'IBGE'),
    ('PB', 'Paraíba', 'state', 'PB', '25', 'Nordeste', 'IBGE'),
    ('PR', 'Paraná', 'state', 'PR', '41', 'Sul', 'IBGE'),
    ('PE', 'Pernambuco', 'state', 'PE', '26', 'Nordeste', 'IBGE'),
    ('PI', 'Piauí', 'state', 'PI', '22', 'Nordeste', 'IBGE'),
    ('RJ', 'Rio de Janeiro', 'state', 'RJ', '33', 'Sudeste', 'IBGE'),
    ('RN', 'Rio Grande do Norte', 'state', 'RN', '24', 'Nordeste', 'IBGE'),
    ('RS', 'Rio Grande do Sul', 'state', 'RS', '43', 'Sul', 'IBGE'),
    ('RO', 'Rondônia', 'state', 'RO', '11', 'Norte', 'IBGE'),
    ('RR', 'Roraima', 'state', 'RR', '14', 'Norte', 'IBGE'),
    ('SC', 'Santa Catarina', 'state', 'SC', '42', 'Sul', 'IBGE'),
    ('SP', 'São Paulo', 'state', 'SP', '35', 'Sudeste', 'IBGE'),
    ('SE', 'Sergipe', 'state', 'SE', '28', 'Nordeste', 'IBGE'),
    ('TO', 'Tocantins', 'state', 'TO', '17', 'Norte', 'IBGE');

-- Aliases: names ERP exports use for the same território (matched accent- and case-insensitively).
INSERT INTO core.regions (region_code, name, level, state_code, source, aliases) VALUES
    ('BA-TI01', 'Irecê', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI02', 'Velho Chico', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI03', 'Chapada Diamantina', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI04', 'Sisal', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI05', 'Litoral Sul', 'region', 'BA', 'SEPLAN-BA', '{"Sul Baiano"}'),
    ('BA-TI06', 'Baixo Sul', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI07', 'Extremo Sul', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI08', 'Médio Sudoeste da Bahia', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI09', 'Vale do Jiquiriçá', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI10', 'Sertão do São Francisco', 'region', 'BA', 'SEPLAN-BA', '{"Vale do São Francisco"}'),
    ('BA-TI11', 'Bacia do Rio Grande', 'region', 'BA', 'SEPLAN-BA', '{"Oeste", "Oeste Baiano"}'),
    ('BA-TI12', 'Bacia do Paramirim', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI13', 'Sertão Produtivo', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI14', 'Piemonte do Paraguaçu', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI15', 'Bacia do Jacuípe', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI16', 'Piemonte da Diamantina', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI17', 'Semiárido Nordeste II', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI18', 'Litoral Norte e Agreste Baiano', 'region', 'BA', 'SEPLAN-BA', '{"Litoral Norte"}'),
    ('BA-TI19', 'Portal do Sertão', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI20', 'Sudoeste Baiano', 'region', 'BA', 'SEPLAN-BA', '{"Sudoeste"}'),
    ('BA-TI21', 'Recôncavo', 'region', 'BA', 'SEPLAN-BA', '{"Recôncavo Baiano"}'),
    ('BA-TI22', 'Médio Rio de Contas', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI23', 'Bacia do Rio Corrente', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI24', 'Itaparica', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI25', 'Piemonte Norte do Itapicuru', 'region', 'BA', 'SEPLAN-BA', '{}'),
    ('BA-TI26', 'Metropolitano de Salvador', 'region', 'BA', 'SEPLAN-BA',
        '{"Região Metropolitana de Salvador", "RMS", "Metropolitana de Salvador"}'),
    ('BA-TI27', 'Costa do Descobrimento', 'region', 'BA', 'SEPLAN-BA', '{}');

ALTER TABLE core.sites ADD COLUMN region_code text REFERENCES core.regions (region_code);
ALTER TABLE core.sites ADD CONSTRAINT sites_state_fkey FOREIGN KEY (state) REFERENCES core.regions (region_code) NOT VALID;
CREATE INDEX sites_region_idx ON core.sites (region_code);
CREATE INDEX sites_state_idx ON core.sites (state);
CREATE INDEX materials_supplier_idx ON core.materials (supplier_id);

-- Forecast intervals (nullable: cycles loaded before version 3 have none).
ALTER TABLE analytics.forecasts
    ADD COLUMN IF NOT EXISTS forecast_lo double precision CHECK (forecast_lo >= 0),
    ADD COLUMN IF NOT EXISTS forecast_hi double precision,
    ADD COLUMN IF NOT EXISTS interval_level double precision CHECK (interval_level > 0 AND interval_level < 1);
CREATE INDEX IF NOT EXISTS model_performance_model_idx ON analytics.model_performance (model, cycle_date);

-- Stock, recent consumption and stock-out risk per material and site.
CREATE TABLE analytics.site_inventory (
    cycle_date            date NOT NULL,
    material_id           text NOT NULL REFERENCES core.materials (material_id),
    site_id               text NOT NULL REFERENCES core.sites (site_id),
    on_hand               double precision NOT NULL CHECK (on_hand >= 0),
    issued_30d            double precision NOT NULL,
    issued_90d            double precision NOT NULL,
    received_90d          double precision NOT NULL,
    demand_days_90d       integer NOT NULL,
    mean_daily_demand     double precision NOT NULL CHECK (mean_daily_demand >= 0),
    days_of_cover         double precision,
    resupply_days         double precision NOT NULL,
    stockout_probability  double precision NOT NULL CHECK (stockout_probability BETWEEN 0 AND 1),
    PRIMARY KEY (cycle_date, material_id, site_id)
);
CREATE INDEX site_inventory_site_idx ON analytics.site_inventory (cycle_date, site_id);

-- Open purchase orders as exported each cycle: the history of snapshots tells when a PO closed.
CREATE TABLE analytics.open_orders (
    cycle_date     date NOT NULL,
    po_id          text NOT NULL,
    material_id    text NOT NULL REFERENCES core.materials (material_id),
    supplier_id    text REFERENCES core.suppliers (supplier_id),
    quantity       double precision NOT NULL CHECK (quantity > 0),
    order_date     date,
    expected_date  date NOT NULL,
    PRIMARY KEY (cycle_date, po_id)
);
CREATE INDEX open_orders_po_idx ON analytics.open_orders (po_id, cycle_date);
CREATE INDEX open_orders_supplier_idx ON analytics.open_orders (cycle_date, supplier_id);
CREATE INDEX open_orders_material_idx ON analytics.open_orders (cycle_date, material_id);

-- Materials by demand pattern and value: ABC (value) x XYZ (variability) and a learned cluster.
CREATE TABLE analytics.material_segments (
    cycle_date          date NOT NULL,
    material_id         text NOT NULL REFERENCES core.materials (material_id),
    abc_class           text NOT NULL CHECK (abc_class IN ('A', 'B', 'C')),
    xyz_class           text NOT NULL CHECK (xyz_class IN ('X', 'Y', 'Z')),
    cluster_id          integer NOT NULL,
    annual_value_brl    double precision NOT NULL,
    mean_daily_demand   double precision NOT NULL,
    cv_weekly           double precision,
    adi_days            double precision,
    PRIMARY KEY (cycle_date, material_id)
);

-- Towers by failure/demand behaviour.
CREATE TABLE analytics.tower_clusters (
    cycle_date               date NOT NULL,
    site_id                  text NOT NULL REFERENCES core.sites (site_id),
    cluster_id               integer NOT NULL,
    daily_issue_events       double precision NOT NULL,
    daily_value_brl          double precision NOT NULL,
    active_day_share         double precision NOT NULL,
    cv_weekly                double precision,
    rain_lift                double precision,
    trend_ratio              double precision,
    distinct_materials       integer NOT NULL,
    PRIMARY KEY (cycle_date, site_id)
);

CREATE TABLE analytics.cluster_profiles (
    cycle_date   date NOT NULL,
    entity       text NOT NULL CHECK (entity IN ('tower', 'material')),
    cluster_id   integer NOT NULL,
    label        text NOT NULL,
    size         integer NOT NULL CHECK (size > 0),
    k            integer NOT NULL,
    method       text NOT NULL,
    score        double precision,
    centroid     jsonb NOT NULL,
    PRIMARY KEY (cycle_date, entity, cluster_id)
);

-- Prescriptive recommendations, in Portuguese, with the numbers behind each one.
CREATE TABLE analytics.recommendations (
    cycle_date         date NOT NULL,
    recommendation_id  text NOT NULL,
    material_id        text NOT NULL REFERENCES core.materials (material_id),
    kind               text NOT NULL CHECK (kind IN ('COMPRAR', 'ANTECIPAR', 'REMANEJAR', 'REDUZIR')),
    priority           integer NOT NULL CHECK (priority BETWEEN 1 AND 4),
    site_id            text REFERENCES core.sites (site_id),
    from_site_id       text REFERENCES core.sites (site_id),
    po_id              text,
    quantity           double precision NOT NULL CHECK (quantity >= 0),
    value_brl          double precision NOT NULL,
    title              text NOT NULL,
    explanation        text NOT NULL,
    evidence           jsonb NOT NULL,
    PRIMARY KEY (cycle_date, recommendation_id)
);
CREATE INDEX recommendations_priority_idx ON analytics.recommendations (cycle_date, priority, value_brl DESC);
CREATE INDEX recommendations_material_idx ON analytics.recommendations (material_id, cycle_date);

-- One row per load attempt, committed or failed (the failed row is written after the rollback).
CREATE TABLE support.load_audit (
    load_id         bigserial PRIMARY KEY,
    table_name      text NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('replace', 'upsert')),
    scope           jsonb NOT NULL,
    dagster_run_id  text NOT NULL DEFAULT '',
    rows_staged     integer,
    rows_deleted    integer,
    rows_written    integer,
    status          text NOT NULL CHECK (status IN ('committed', 'failed')),
    error           text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX load_audit_table_idx ON support.load_audit (table_name, started_at DESC);

-- Results of the data tests (dbt tests on the marts, reported as Dagster asset checks).
CREATE TABLE support.data_quality_results (
    result_id       bigserial PRIMARY KEY,
    checked_at      timestamptz NOT NULL DEFAULT now(),
    dagster_run_id  text NOT NULL DEFAULT '',
    asset_key       text NOT NULL,
    check_name      text NOT NULL,
    passed          boolean NOT NULL,
    severity        text,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX data_quality_results_asset_idx ON support.data_quality_results (asset_key, checked_at DESC);
