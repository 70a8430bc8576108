-- Supplier status per supplier and spine day, from the open purchase orders.
--
-- As of day d, a PO line of the supplier counts when it was placed BEFORE d
-- (order_date < d); it is overdue when its expected date is also before d
-- (expected_date < d). Lines without an order date are left out (unknown placement day).
-- The supplier of a line is its own supplier_id, else the material's default supplier.
--
-- Caveat (documented, not hidden): erp_open_orders is a SNAPSHOT of the orders still open at
-- the export date; orders received since are not in it. For days well before the export the
-- counts are therefore a lower bound (survivorship), exact from the export day on. The table
-- never uses an order placed on or after d for day d.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

materials as (
    select material_id, supplier_id from {{ ref('stg_erp__materials') }}
),

suppliers as (
    select supplier_id from {{ ref('stg_erp__suppliers') }}
    union
    select supplier_id from materials where supplier_id is not null
),

order_lines as (
    select
        coalesce(o.supplier_id, m.supplier_id) as supplier_id,
        o.po_id,
        o.order_date,
        o.expected_date
    from {{ ref('stg_erp__open_orders') }} as o
    left join materials as m on m.material_id = o.material_id
    where o.order_date is not null
),

status as (
    select
        suppliers.supplier_id,
        spine.date,
        cast(count(order_lines.po_id) as integer) as supplier_open_orders,
        cast(count(case when order_lines.expected_date < spine.date then 1 end) as integer)
            as supplier_overdue_orders,
        cast(coalesce(max(case
            when order_lines.expected_date < spine.date
                then date_diff('day', order_lines.expected_date, spine.date)
        end), 0) as integer) as supplier_max_days_overdue
    from suppliers
    cross join spine
    left join order_lines
        on  order_lines.supplier_id = suppliers.supplier_id
        and order_lines.order_date < spine.date
    group by suppliers.supplier_id, spine.date
)

select
    supplier_id,
    date,
    supplier_open_orders,
    supplier_overdue_orders,
    supplier_max_days_overdue,
    case
        when supplier_overdue_orders > 0 then 'overdue'
        when supplier_open_orders > 0 then 'on_time'
        else 'no_open_orders'
    end as supplier_status
from status
order by supplier_id, date
