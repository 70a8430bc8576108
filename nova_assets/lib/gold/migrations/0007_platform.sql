-- Gold layer, version 7: the planners' platform (web app and API, nova_assets/lib/platform):
-- users and their sessions, the audit trail, alert acknowledgements, planner overrides, the data
-- the material page needs (demand history, per-material backtest errors), and the API's
-- least-privilege role `nova_api`. Additive only.

CREATE TABLE support.users (
    user_id        bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    role           text NOT NULL CHECK (role IN ('VIEWER', 'ANALYST', 'ADMIN')),
    password_hash  text NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    disabled_at    timestamptz,
    last_login_at  timestamptz
);

-- One row per issued access token (its JWT id): a token is valid only while its row is neither
-- revoked (logout, user disabled) nor expired, so logout ends the session on the server.
CREATE TABLE support.sessions (
    jti         text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES support.users (user_id),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    address     text,
    revoked_at  timestamptz
);
CREATE INDEX sessions_user_idx ON support.sessions (user_id) WHERE revoked_at IS NULL;

-- Who did what, when, from where: logins (ok, failed, throttled), logouts, every write with its
-- before/after values, every export. Append-only for the API role (INSERT, no UPDATE/DELETE).
CREATE TABLE support.audit_log (
    audit_id  bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id   bigint REFERENCES support.users (user_id),
    username  text,
    address   text,
    action    text NOT NULL,
    target    text,
    outcome   text NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    before    jsonb,
    after     jsonb,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON support.audit_log (at DESC);
CREATE INDEX audit_log_failed_login_idx ON support.audit_log (address, username, at) WHERE action = 'login_failed';

-- Acknowledge / resolve an alert (one alert = one material in one cycle). No foreign key to
-- analytics.alerts: a re-run of the cycle replaces its alert rows, the history stays.
CREATE TABLE support.alert_actions (
    action_id    bigserial PRIMARY KEY,
    cycle_date   date NOT NULL,
    material_id  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('acknowledged', 'resolved')),
    comment      text NOT NULL DEFAULT '',
    user_id      bigint NOT NULL REFERENCES support.users (user_id),
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX alert_actions_alert_idx ON support.alert_actions (cycle_date, material_id, at DESC);

-- A planner's value for a material's reorder point (units) or daily forecast (units per day), with
-- a reason and an expiry. The next cycle applies every override that is not cancelled and not
-- expired; a new override of the same kind supersedes (cancels) the previous one. Rows are never
-- deleted, so the forecast value added of overrides stays measurable.
CREATE TABLE support.overrides (
    override_id   bigserial PRIMARY KEY,
    material_id   text NOT NULL REFERENCES core.materials (material_id),
    kind          text NOT NULL CHECK (kind IN ('reorder_point', 'forecast')),
    value         double precision NOT NULL CHECK (value >= 0),
    reason        text NOT NULL CHECK (length(btrim(reason)) > 0),
    expires_on    date NOT NULL,
    created_by    bigint REFERENCES support.users (user_id),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    cancelled_at  timestamptz,
    cancelled_by  bigint REFERENCES support.users (user_id)
);
CREATE UNIQUE INDEX overrides_one_open_idx ON support.overrides (material_id, kind) WHERE cancelled_at IS NULL;

-- Both values of an overridden reorder point: what the policy computed and what the planner set.
ALTER TABLE analytics.reorder_points
    ADD COLUMN computed_reorder_point      double precision,
    ADD COLUMN reorder_point_override_id   bigint,
    ADD COLUMN computed_mean_daily_demand  double precision,
    ADD COLUMN forecast_override_id        bigint;

-- The planner's daily forecast the cycle used instead of the computed one (model 'Ensemble' in
-- analytics.forecasts), per cycle: with both kept, the value added of overrides can be measured.
CREATE TABLE analytics.forecast_overrides (
    cycle_date     date NOT NULL,
    material_id    text NOT NULL REFERENCES core.materials (material_id),
    forecast_date  date NOT NULL,
    forecast       double precision NOT NULL CHECK (forecast >= 0),
    override_id    bigint NOT NULL,
    PRIMARY KEY (cycle_date, material_id, forecast_date)
);

-- The material page: recent daily demand, and each model's backtest error per material.
CREATE TABLE analytics.demand_history (
    cycle_date   date NOT NULL,
    material_id  text NOT NULL REFERENCES core.materials (material_id),
    demand_date  date NOT NULL,
    demand       double precision NOT NULL,
    PRIMARY KEY (material_id, cycle_date, demand_date)
);

CREATE TABLE analytics.material_model_errors (
    cycle_date   date NOT NULL,
    material_id  text NOT NULL REFERENCES core.materials (material_id),
    model        text NOT NULL,
    mae          double precision,
    rmse         double precision,
    bias         double precision,
    n_points     integer NOT NULL,
    PRIMARY KEY (material_id, cycle_date, model)
);
CREATE INDEX material_model_errors_cycle_idx ON analytics.material_model_errors (cycle_date);

-- The material page reads one material's latest site inventory.
CREATE INDEX site_inventory_material_idx ON analytics.site_inventory (material_id, cycle_date);

-- The API's role: reads gold, writes only what the API owns. NOLOGIN here; the web app gives it
-- LOGIN and a generated password at start (nova_assets/lib/platform/database.py).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nova_api') THEN
        CREATE ROLE nova_api NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN RAISE WARNING 'cannot create role nova_api: set NOVA_API_POSTGRES_URL';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nova_api') THEN
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO nova_api', current_database());
        GRANT USAGE ON SCHEMA core, analytics, marts, support TO nova_api;
        GRANT SELECT ON ALL TABLES IN SCHEMA core, analytics, marts TO nova_api;
        ALTER DEFAULT PRIVILEGES IN SCHEMA core, analytics, marts GRANT SELECT ON TABLES TO nova_api;
        GRANT SELECT ON support.schema_migrations, support.pipeline_runs, support.load_audit,
            support.data_quality_results TO nova_api;
        GRANT SELECT, INSERT, UPDATE ON support.users, support.sessions, support.alert_actions,
            support.overrides TO nova_api;
        GRANT SELECT, INSERT ON support.audit_log TO nova_api;
        GRANT USAGE ON SEQUENCE support.users_user_id_seq, support.audit_log_audit_id_seq,
            support.alert_actions_action_id_seq, support.overrides_override_id_seq TO nova_api;
        REVOKE ALL ON SCHEMA staging FROM nova_api;
    END IF;
END
$$;
