-- Open purchase orders: typed, one row per (po_id, material_id).
with source as (
    select * from {{ source('raw', 'erp_open_orders') }}
),

typed as (
    select
        trim(cast(po_id as varchar))          as po_id,
        trim(cast(material_id as varchar))    as material_id,
        trim(cast(supplier_id as varchar))    as supplier_id,
        cast(quantity as double)              as quantity,
        cast(order_date as date)              as order_date,
        cast(expected_date as date)           as expected_date
    from source
    where po_id is not null and material_id is not null
)

select *
from typed
-- duplicated PO lines: keep the latest expectation (most recent re-extract)
qualify row_number() over (
    partition by po_id, material_id
    order by order_date desc nulls last, expected_date desc nulls last, quantity desc nulls last
) = 1
