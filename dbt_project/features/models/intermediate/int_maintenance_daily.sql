-- The maintenance plan on the daily spine: preventive orders planned at each tower, counted on a
-- day only when they were created BEFORE it (the plan known in advance; an order opened on its own
-- planned day is not). Cancelled orders do not count. Future spine days see the open plan.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

plan as (
    select site_id, planned_date, created_date
    from {{ ref('stg_erp__work_orders') }}
    where kind = 'preventive' and status <> 'cancelled' and planned_date is not null
),

planned as (
    select
        spine.date,
        cast(count(distinct plan.site_id) as integer) as towers_in_maintenance,
        cast(count(plan.site_id) as integer)          as planned_orders
    from spine
    join plan
      on plan.planned_date = spine.date
     and coalesce(plan.created_date, plan.planned_date - 1) < spine.date
    group by spine.date
)

select
    spine.date,
    coalesce(planned.towers_in_maintenance, 0)                  as towers_in_maintenance,
    coalesce(planned.planned_orders, 0)                         as planned_orders,
    cast(coalesce(planned.towers_in_maintenance, 0) > 0 as integer) as maintenance_flag
from spine
left join planned on planned.date = spine.date
order by spine.date
