-- Gold layer, version 8: maintenance and the life cycle of parts (docs/maintenance.md): the material
-- a part replaces, the failure clusters per tower and equipment type, the failure forecast, and the
-- obsolescence risk of parts whose installed base is going or gone (with its KPI). Additive only.
ALTER TABLE core.materials ADD COLUMN supersedes text;

CREATE TABLE analytics.equipment_failure_clusters (
    cycle_date                     date NOT NULL,
    site_id                        text NOT NULL REFERENCES core.sites (site_id),
    equipment_type                 text NOT NULL,
    units                          integer NOT NULL CHECK (units >= 0),
    unit_years                     double precision NOT NULL CHECK (unit_years >= 0),
    mean_age_years                 double precision,
    failures                       integer NOT NULL CHECK (failures >= 0),
    failure_rate_per_year          double precision,
    relative_failure_rate          double precision,
    mtbf_days                      double precision,  -- NULL without a failure
    repair_parts_cost_brl          double precision NOT NULL CHECK (repair_parts_cost_brl >= 0),
    repair_cost_per_failure_brl    double precision,
    repair_cost_per_unit_year_brl  double precision,
    cluster                        integer,
    clustering_method              text,
    PRIMARY KEY (cycle_date, site_id, equipment_type)
);

CREATE TABLE analytics.failure_forecast (
    cycle_date      date NOT NULL,
    period          date NOT NULL,  -- first day of the forecast month
    site_id         text NOT NULL REFERENCES core.sites (site_id),
    equipment_type  text NOT NULL,
    expected        double precision NOT NULL CHECK (expected >= 0),
    p5              double precision NOT NULL,
    p50             double precision NOT NULL,
    p95             double precision NOT NULL,
    PRIMARY KEY (cycle_date, period, site_id, equipment_type)
);

CREATE TABLE analytics.obsolescence_risk (
    cycle_date             date NOT NULL,
    material_id            text NOT NULL REFERENCES core.materials (material_id),
    status                 text NOT NULL CHECK (status IN ('phasing_out', 'no_installed_base')),
    last_service_date      date,
    on_hand                double precision NOT NULL,
    unit_cost              double precision NOT NULL,
    remaining_demand       double precision NOT NULL,
    excess_units           double precision NOT NULL CHECK (excess_units >= 0),
    obsolescence_risk_brl  double precision NOT NULL CHECK (obsolescence_risk_brl >= 0),
    PRIMARY KEY (cycle_date, material_id)
);

CREATE TABLE analytics.obsolescence_kpi (
    cycle_date             date PRIMARY KEY,
    materials_at_risk      integer NOT NULL,
    excess_units           double precision NOT NULL,
    obsolescence_risk_brl  double precision NOT NULL
);
