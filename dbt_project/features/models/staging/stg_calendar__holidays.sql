-- Holidays (national, Bahia state, Salvador municipal, optional): typed, one row per (date, name).
select
    cast(date as date)                   as date,
    trim(cast(name as varchar))          as name,
    lower(trim(cast(scope as varchar)))  as scope,
    coalesce(cast(is_major as boolean), false) as is_major
from {{ source('raw', 'holidays') }}
where date is not null and name is not null
qualify row_number() over (
    partition by cast(date as date), trim(cast(name as varchar))
    order by cast(is_major as boolean) desc nulls last, scope
) = 1
