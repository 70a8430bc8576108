-- USD/BRL PTAX closing rate (BRL per USD): typed, one row per published (business) date.
select
    cast(date as date)     as date,
    cast(value as double)  as usd_brl
from {{ source('raw', 'economics_usd_brl') }}
where date is not null and value is not null
qualify row_number() over (partition by cast(date as date) order by cast(value as double)) = 1
