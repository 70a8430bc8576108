-- Gold layer, version 2: the reorder-point policy in detail, the policy backtest, alert delivery.

-- Both policies per material (policy = 'project' | 'baseline_design'). A bootstrapped reorder point
-- (the quantile of lumpy lead-time demand) can sit below the mean, so the safety stock may be
-- negative; the reorder point itself stays non-negative.
ALTER TABLE analytics.reorder_points
    DROP CONSTRAINT IF EXISTS reorder_points_safety_stock_check,
    ADD COLUMN backorders          double precision NOT NULL DEFAULT 0,
    ADD COLUMN lead_time_std_days  double precision,
    ADD COLUMN risk_period_days    double precision,
    ADD COLUMN demand_class        text,
    ADD COLUMN method              text,
    ADD COLUMN service_measure     text,
    ADD COLUMN service_target      double precision,
    ADD COLUMN expected_ltd        double precision,
    ADD COLUMN sigma_ltd           double precision,
    ADD COLUMN order_quantity      double precision,
    ADD COLUMN suggested_order     double precision,
    ADD COLUMN context_multiplier  double precision;

ALTER TABLE analytics.alerts
    ADD COLUMN detail                    text NOT NULL DEFAULT '',
    ADD COLUMN days_until_stockout       double precision,
    ADD COLUMN days_until_reorder_point  double precision,
    ADD COLUMN lead_time_days            double precision,
    ADD COLUMN category                  text,
    ADD COLUMN criticality               text,
    ADD COLUMN site_id                   text,
    ADD COLUMN stale_warning             text NOT NULL DEFAULT '';

-- Replay of the demand history under each policy (the sample's daily cycle; `nova policy-backtest`
-- prints the same figures for any file). segment = 'all' or a criticality class.
CREATE TABLE analytics.policy_backtest (
    cycle_date             date NOT NULL,
    policy                 text NOT NULL,
    segment                text NOT NULL,
    freq                   text NOT NULL,
    items                  integer NOT NULL,
    service_measure        text,
    service_target         double precision,
    fill_rate              double precision,
    cycle_service_level    double precision,
    stockout_periods       integer NOT NULL,
    stockout_period_share  double precision,
    avg_on_hand            double precision NOT NULL,
    avg_inventory_value    double precision NOT NULL,
    orders                 integer NOT NULL,
    PRIMARY KEY (cycle_date, policy, segment)
);

-- Every message handed to a channel, with its fate. Rows are never deleted: a failed send stays
-- 'failed' and is retried by the next dispatch until `attempts` reaches the limit ('dead').
-- 'skipped' rows record a channel without credentials (one per channel and cycle).
CREATE TABLE support.delivery_log (
    id                   bigserial PRIMARY KEY,
    cycle_date           date NOT NULL,
    channel              text NOT NULL CHECK (channel IN ('email', 'whatsapp')),
    recipient            text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('alert', 'escalation', 'skipped')),
    subject              text NOT NULL,
    body_text            text NOT NULL,
    body_html            text,
    attachment           text,
    material_ids         text[] NOT NULL DEFAULT '{}',
    status               text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dead', 'skipped')),
    attempts             integer NOT NULL DEFAULT 0,
    last_error           text,
    provider_message_id  text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz
);
CREATE INDEX delivery_log_due_idx ON support.delivery_log (status, id) WHERE status IN ('pending', 'failed');
CREATE INDEX delivery_log_cycle_idx ON support.delivery_log (cycle_date, channel);

-- What each recipient has been told about each material on each day: the dedupe key. A re-run of
-- the same day finds the row and sends nothing; a higher severity updates it and sends an escalation.
CREATE TABLE support.alert_send_state (
    alert_date   date NOT NULL,
    material_id  text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('email', 'whatsapp')),
    recipient    text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('CRÍTICO', 'ALTO', 'MÉDIO', 'OK')),
    delivery_id  bigint NOT NULL REFERENCES support.delivery_log (id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_date, material_id, channel, recipient)
);
CREATE INDEX alert_send_state_recent_idx ON support.alert_send_state (material_id, channel, recipient, alert_date);
