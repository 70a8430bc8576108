-- ANATEL 5G stations per municipality and month: typed, one row per (month, ibge_code).
select
    cast(date_trunc('month', cast(month as date)) as date)  as month,
    trim(cast(ibge_code as varchar))                        as ibge_code,
    cast(stations_5g_new as bigint)                         as stations_5g_new,
    cast(stations_5g_total as bigint)                       as stations_5g_total
from {{ source('raw', 'anatel_5g_monthly') }}
where month is not null and ibge_code is not null
qualify row_number() over (
    partition by date_trunc('month', cast(month as date)), trim(cast(ibge_code as varchar))
    order by stations_5g_total desc nulls last
) = 1
