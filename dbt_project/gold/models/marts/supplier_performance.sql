-- Supplier performance as of the latest cycle, from the purchase orders seen in the daily
-- open-order exports (the ERP exports no receipt-to-order link; see the model's docs):
--   * a PO open in one loaded cycle and absent from the next is received on that next cycle's date;
--   * on time = received by the expected date first exported; an open PO past that date is late;
--   * promised lead time = the supplier master (core.suppliers), quoted = expected - order date,
--     actual = received - order date;
--   * trend = lead times (actual, else quoted) of orders placed in the last window vs the window before.
with orders as (
    select * from {{ source('analytics', 'open_orders') }}
),

cycles as (
    select distinct cycle_date from orders
),

latest as (
    select max(cycle_date) as cycle_date from cycles
),

po as (
    select
        po_id,
        min(supplier_id) as supplier_id,
        min(order_date) as order_date,
        (array_agg(expected_date order by cycle_date))[1] as promised_date,
        max(cycle_date) as last_seen
    from orders
    group by po_id
),

tracked as (
    select
        po.*,
        (select min(c.cycle_date) from cycles as c where c.cycle_date > po.last_seen) as received_date
    from po
),

scored as (
    select
        t.*,
        t.received_date is not null as is_received,
        t.received_date is null and t.promised_date < l.cycle_date as is_overdue,
        (t.received_date - t.order_date)::double precision as actual_lead_time,
        (t.promised_date - t.order_date)::double precision as quoted_lead_time,
        case
            when t.received_date is not null then t.received_date <= t.promised_date
            when t.promised_date < l.cycle_date then false
        end as on_time,
        t.order_date > l.cycle_date - {{ var('trend_window_days') }} as in_recent_window,
        t.order_date > l.cycle_date - 2 * {{ var('trend_window_days') }}
            and t.order_date <= l.cycle_date - {{ var('trend_window_days') }} as in_previous_window
    from tracked as t
    cross join latest as l
),

per_supplier as (
    select
        supplier_id,
        count(*) filter (where is_received) as orders_received,
        count(*) filter (where not is_received) as orders_open,
        count(*) filter (where is_overdue) as orders_overdue,
        avg(case when on_time then 1.0::double precision else 0.0 end) filter (where on_time is not null) as on_time_rate,
        avg(actual_lead_time) as actual_lead_time_mean_days,
        stddev_samp(actual_lead_time) as actual_lead_time_std_days,
        avg(quoted_lead_time) filter (where not is_received) as quoted_lead_time_mean_days,
        stddev_samp(quoted_lead_time) filter (where not is_received) as quoted_lead_time_std_days,
        avg(coalesce(actual_lead_time, quoted_lead_time)) filter (where in_recent_window) as recent_lead_time_days,
        avg(coalesce(actual_lead_time, quoted_lead_time)) filter (where in_previous_window) as previous_lead_time_days
    from scored
    where supplier_id is not null
    group by supplier_id
)

select
    l.cycle_date,
    s.supplier_id,
    s.supplier_name,
    s.lead_time_mean_days as promised_lead_time_mean_days,
    s.lead_time_std_days as promised_lead_time_std_days,
    coalesce(p.orders_received, 0) as orders_received,
    coalesce(p.orders_open, 0) as orders_open,
    coalesce(p.orders_overdue, 0) as orders_overdue,
    p.on_time_rate,
    p.actual_lead_time_mean_days,
    p.actual_lead_time_std_days,
    p.quoted_lead_time_mean_days,
    p.quoted_lead_time_std_days,
    coalesce(p.actual_lead_time_mean_days, p.quoted_lead_time_mean_days) - s.lead_time_mean_days
        as lead_time_gap_days,
    p.recent_lead_time_days,
    p.previous_lead_time_days,
    case
        when p.recent_lead_time_days is null or p.previous_lead_time_days is null then 'sem dados'
        when p.recent_lead_time_days > p.previous_lead_time_days * (1 + {{ var('trend_tolerance') }}) then 'piorando'
        when p.recent_lead_time_days < p.previous_lead_time_days * (1 - {{ var('trend_tolerance') }}) then 'melhorando'
        else 'estável'
    end as lead_time_trend
from {{ source('core', 'suppliers') }} as s
cross join latest as l
left join per_supplier as p using (supplier_id)
where l.cycle_date is not null
