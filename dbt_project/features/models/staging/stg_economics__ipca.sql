-- IPCA monthly % change: typed, one row per reference month (normalised to the 1st).
select
    cast(date_trunc('month', cast(month as date)) as date)  as month,
    cast(value as double)                                   as ipca
from {{ source('raw', 'economics_ipca') }}
where month is not null and value is not null
qualify row_number() over (
    partition by date_trunc('month', cast(month as date)) order by cast(month as date) desc
) = 1
