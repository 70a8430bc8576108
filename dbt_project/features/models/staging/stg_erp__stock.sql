-- On-hand stock snapshots: typed, one row per (snapshot_date, material_id, site_id).
with source as (
    select * from {{ source('raw', 'erp_stock') }}
),

typed as (
    select
        cast(snapshot_date as date)          as snapshot_date,
        trim(cast(material_id as varchar))   as material_id,
        trim(cast(site_id as varchar))       as site_id,
        cast(on_hand as double)              as on_hand
    from source
    where snapshot_date is not null and material_id is not null and site_id is not null
)

select *
from typed
-- duplicated snapshot rows: keep the one with a value, the largest first (deterministic)
qualify row_number() over (
    partition by snapshot_date, material_id, site_id order by on_hand desc nulls last
) = 1
