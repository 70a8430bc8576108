-- Gold layer, version 1: the schemas and the tables the daily cycle loads.
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS support;
CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE core.suppliers (
    supplier_id          text PRIMARY KEY,
    supplier_name        text NOT NULL,
    lead_time_mean_days  double precision NOT NULL CHECK (lead_time_mean_days >= 0),
    lead_time_std_days   double precision NOT NULL CHECK (lead_time_std_days >= 0)
);

CREATE TABLE core.materials (
    material_id  text PRIMARY KEY,
    description  text NOT NULL,
    category     text NOT NULL,
    unit         text NOT NULL,
    unit_cost    double precision NOT NULL CHECK (unit_cost >= 0),
    criticality  text NOT NULL CHECK (criticality IN ('A', 'B', 'C')),
    supplier_id  text NOT NULL REFERENCES core.suppliers (supplier_id)
);

CREATE TABLE core.sites (
    site_id              text PRIMARY KEY,
    site_name            text NOT NULL,
    site_type            text NOT NULL,
    region               text NOT NULL,
    state                text NOT NULL,
    municipality         text NOT NULL,
    ibge_code            text,
    latitude             double precision,
    longitude            double precision,
    sla_penalty_brl_day  double precision
);

CREATE TABLE analytics.forecasts (
    cycle_date     date NOT NULL,
    material_id    text NOT NULL REFERENCES core.materials (material_id),
    forecast_date  date NOT NULL,
    model          text NOT NULL,
    forecast       double precision NOT NULL CHECK (forecast >= 0),
    PRIMARY KEY (cycle_date, material_id, model, forecast_date)
);
CREATE INDEX forecasts_material_idx ON analytics.forecasts (material_id, cycle_date);

CREATE TABLE analytics.reorder_points (
    cycle_date                date NOT NULL,
    material_id               text NOT NULL REFERENCES core.materials (material_id),
    policy                    text NOT NULL,
    mean_daily_demand         double precision NOT NULL,
    sigma_daily_demand        double precision NOT NULL,
    lead_time_days            double precision NOT NULL,
    safety_stock              double precision NOT NULL CHECK (safety_stock >= 0),
    reorder_point             double precision NOT NULL CHECK (reorder_point >= 0),
    order_up_to               double precision NOT NULL,
    stock_on_hand             double precision NOT NULL,
    on_order                  double precision NOT NULL,
    stock_position            double precision NOT NULL,
    days_until_stockout       double precision,
    days_until_reorder_point  double precision,
    PRIMARY KEY (cycle_date, material_id, policy)
);

CREATE TABLE analytics.alerts (
    cycle_date      date NOT NULL,
    material_id     text NOT NULL REFERENCES core.materials (material_id),
    severity        text NOT NULL CHECK (severity IN ('CRÍTICO', 'ALTO', 'MÉDIO', 'OK')),
    message         text NOT NULL,
    action          text NOT NULL,
    order_quantity  double precision NOT NULL,
    stock_position  double precision NOT NULL,
    reorder_point   double precision NOT NULL,
    data_as_of      date NOT NULL,
    is_stale        boolean NOT NULL,
    PRIMARY KEY (cycle_date, material_id)
);
CREATE INDEX alerts_severity_idx ON analytics.alerts (cycle_date, severity);

CREATE TABLE analytics.model_performance (
    cycle_date          date NOT NULL,
    model               text NOT NULL,
    family              text NOT NULL,
    mase                double precision,
    rmsse               double precision,
    bias                double precision,
    total_demand_error  double precision,
    n_series            integer NOT NULL,
    mlflow_run_id       text,
    PRIMARY KEY (cycle_date, model)
);

CREATE TABLE support.pipeline_runs (
    cycle_date     date NOT NULL,
    table_name     text NOT NULL,
    dagster_run_id text NOT NULL,
    rows_loaded    integer NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cycle_date, table_name, dagster_run_id)
);
