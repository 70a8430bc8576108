-- Supplier performance as of the latest cycle, per purchase-order line.
-- basis = 'erp_purchase_orders': the ERP's PO lines with their receipts (analytics.purchase_orders,
--   received date = first receipt naming the PO). A line without a supplier is the material's supplier's.
-- basis = 'open_order_snapshots' (fallback while no PO export was ever loaded): a PO open in one
--   loaded cycle and absent from the next is taken as received on that next cycle's date.
-- Per line: on time = received by the promised date; open and past it = late; open and not yet
--   due = not counted. Lead times in days: actual = received - order date, promised by the PO =
--   promised - order date, promised by the supplier master = core.suppliers.lead_time_*_days.
-- Trend (window = var trend_window_days, as of the cycle): actual lead time of the lines received
--   in the last window vs the window before; on-time rate of the lines due in each window.
{% set window = var('trend_window_days') %}
{% set tolerance = var('trend_tolerance') %}
with purchase_orders as (
    select * from {{ source('analytics', 'purchase_orders') }}
),

snapshots as (
    select * from {{ source('analytics', 'open_orders') }}
),

-- the cycle the PO lines are current to, kept apart since a load rewrites only the lines that changed;
-- without that row (lines written by hand, not by the gold asset) the newest line's as-of. The row is
-- written in the lines' own load (the gold purchase_orders asset), so it is no source of its own:
-- dagster-dbt maps each source to one asset key.
po_as_of as (
    select coalesce(
        (select as_of_date from {{ source('analytics', 'purchase_orders').schema }}.purchase_orders_as_of),
        (select max(as_of_date) from purchase_orders)
    ) as as_of_date
),

basis as (
    select
        case when exists (select 1 from purchase_orders) then 'erp_purchase_orders' else 'open_order_snapshots' end
            as basis
),

as_of as (
    select
        b.basis,
        case
            when b.basis = 'erp_purchase_orders' then (select as_of_date from po_as_of)
            else (select max(cycle_date) from snapshots)
        end as cycle_date
    from basis as b
),

linked_lines as (
    select
        coalesce(po.supplier_id, m.supplier_id) as supplier_id,
        po.order_date,
        po.promised_date,
        po.received_date
    from purchase_orders as po
    inner join {{ source('core', 'materials') }} as m using (material_id)
),

snapshot_cycles as (
    select distinct cycle_date from snapshots
),

snapshot_pos as (
    select
        po_id,
        min(supplier_id) as supplier_id,
        min(order_date) as order_date,
        (array_agg(expected_date order by cycle_date))[1] as promised_date,
        max(cycle_date) as last_seen
    from snapshots
    group by po_id
),

inferred_lines as (
    select
        p.supplier_id,
        p.order_date,
        p.promised_date,
        (select min(c.cycle_date) from snapshot_cycles as c where c.cycle_date > p.last_seen) as received_date
    from snapshot_pos as p
),

lines as (
    select l.* from linked_lines as l cross join as_of where as_of.basis = 'erp_purchase_orders'
    union all
    select l.* from inferred_lines as l cross join as_of where as_of.basis = 'open_order_snapshots'
),

scored as (
    select
        l.supplier_id,
        l.received_date is not null as is_received,
        l.received_date is null and l.promised_date < a.cycle_date as is_overdue,
        case
            when l.received_date is not null then l.received_date <= l.promised_date
            when l.promised_date < a.cycle_date then false
        end as on_time,
        (l.received_date - l.order_date)::double precision as actual_lead_time,
        (l.promised_date - l.order_date)::double precision as po_promised_lead_time,
        (l.received_date - l.promised_date)::double precision as delay,
        l.received_date > a.cycle_date - {{ window }} as received_recent,
        l.received_date <= a.cycle_date - {{ window }} and l.received_date > a.cycle_date - 2 * {{ window }}
            as received_previous,
        l.promised_date > a.cycle_date - {{ window }} and l.promised_date <= a.cycle_date as due_recent,
        l.promised_date <= a.cycle_date - {{ window }} and l.promised_date > a.cycle_date - 2 * {{ window }}
            as due_previous
    from lines as l
    cross join as_of as a
    where l.supplier_id is not null
),

per_supplier as (
    select
        supplier_id,
        count(*) filter (where is_received) as orders_received,
        count(*) filter (where not is_received) as orders_open,
        count(*) filter (where is_overdue) as orders_overdue,
        avg(on_time::integer::double precision) as on_time_rate,
        avg(actual_lead_time) as actual_lead_time_mean_days,
        stddev_samp(actual_lead_time) as actual_lead_time_std_days,
        avg(po_promised_lead_time) as po_promised_lead_time_mean_days,
        stddev_samp(po_promised_lead_time) as po_promised_lead_time_std_days,
        avg(delay) as delay_mean_days,
        avg(actual_lead_time) filter (where received_recent) as recent_lead_time_days,
        avg(actual_lead_time) filter (where received_previous) as previous_lead_time_days,
        avg(on_time::integer::double precision) filter (where due_recent) as recent_on_time_rate,
        avg(on_time::integer::double precision) filter (where due_previous) as previous_on_time_rate
    from scored
    group by supplier_id
)

select
    a.cycle_date,
    s.supplier_id,
    s.supplier_name,
    a.basis,
    s.lead_time_mean_days as promised_lead_time_mean_days,
    s.lead_time_std_days as promised_lead_time_std_days,
    coalesce(p.orders_received, 0) as orders_received,
    coalesce(p.orders_open, 0) as orders_open,
    coalesce(p.orders_overdue, 0) as orders_overdue,
    p.on_time_rate,
    p.actual_lead_time_mean_days,
    p.actual_lead_time_std_days,
    p.po_promised_lead_time_mean_days,
    p.po_promised_lead_time_std_days,
    p.delay_mean_days,
    p.actual_lead_time_mean_days - s.lead_time_mean_days as lead_time_gap_days,
    p.recent_lead_time_days,
    p.previous_lead_time_days,
    p.recent_on_time_rate,
    p.previous_on_time_rate,
    case
        when p.recent_lead_time_days is null or p.previous_lead_time_days is null then 'sem dados'
        when p.recent_lead_time_days > p.previous_lead_time_days * (1 + {{ tolerance }}) then 'piorando'
        when p.recent_lead_time_days < p.previous_lead_time_days * (1 - {{ tolerance }}) then 'melhorando'
        else 'estável'
    end as lead_time_trend
from {{ source('core', 'suppliers') }} as s
cross join as_of as a
left join per_supplier as p using (supplier_id)
where a.cycle_date is not null
