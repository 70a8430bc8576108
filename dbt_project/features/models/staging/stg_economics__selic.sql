-- SELIC target rate (BACEN SGS 432, % a.a.): typed, one row per published date.
select
    cast(date as date)     as date,
    cast(value as double)  as selic
from {{ source('raw', 'economics_selic') }}
where date is not null and value is not null
qualify row_number() over (partition by cast(date as date) order by cast(value as double)) = 1
