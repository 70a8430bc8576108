-- Sites (warehouses and towers): typed, trimmed, one row per site_id.
with source as (
    select * from {{ source('raw', 'erp_sites') }}
),

typed as (
    select
        trim(cast(site_id as varchar))            as site_id,
        trim(cast(site_name as varchar))          as site_name,
        lower(trim(cast(site_type as varchar)))   as site_type,
        trim(cast(region as varchar))             as region,
        upper(trim(cast(state as varchar)))       as state,
        trim(cast(municipality as varchar))       as municipality,
        trim(cast(ibge_code as varchar))          as ibge_code,
        cast(latitude as double)                  as latitude,
        cast(longitude as double)                 as longitude,
        cast(sla_penalty_brl_day as double)       as sla_penalty_brl_day
    from source
    where site_id is not null and trim(cast(site_id as varchar)) <> ''
)

select *
from typed
qualify row_number() over (partition by site_id order by site_name, site_type) = 1
