-- Suppliers with lead-time statistics: typed, one row per supplier_id.
with source as (
    select * from {{ source('raw', 'erp_suppliers') }}
),

typed as (
    select
        trim(cast(supplier_id as varchar))     as supplier_id,
        trim(cast(supplier_name as varchar))   as supplier_name,
        cast(lead_time_mean_days as double)    as lead_time_mean_days,
        cast(lead_time_std_days as double)     as lead_time_std_days
    from source
    where supplier_id is not null and trim(cast(supplier_id as varchar)) <> ''
)

select *
from typed
qualify row_number() over (
    partition by supplier_id order by (lead_time_mean_days is null), supplier_name
) = 1
