-- Daily weather for Salvador: typed, one row per date. When several sources report the same
-- date, INMET (the primary source in the design) wins, then the first source alphabetically.
with source as (
    select * from {{ source('raw', 'weather_daily') }}
),

typed as (
    select
        cast(date as date)                    as date,
        cast(temp_max as double)              as temp_max,
        cast(temp_min as double)              as temp_min,
        cast(temp_avg as double)              as temp_avg,
        cast(humidity_avg as double)          as humidity_avg,
        cast(precipitation_mm as double)      as precipitation_mm,
        cast(wind_speed_max as double)        as wind_speed_max,
        lower(trim(cast(source as varchar)))  as source
    from source
    where date is not null
)

select *
from typed
qualify row_number() over (
    partition by date
    order by (source like 'inmet%') desc, source nulls last
) = 1
