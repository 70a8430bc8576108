-- Daily Salvador weather on the spine, with flags and trailing rain sums.
-- Rolling sums are computed over a gap-free calendar that starts at the earliest weather
-- date (so the first spine days already have full windows) and include the day itself
-- (same-day weather is treated as a known exogenous driver). Missing weather days stay NULL
-- and are skipped by the sums; flags are NULL when the underlying value is missing.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

weather as (
    select * from {{ ref('stg_weather__daily') }}
),

bounds as (
    select
        least((select min(date) from weather), (select min(date) from spine)) as first_date,
        (select max(date) from spine) as last_date
),

calendar as (
    select cast(unnest(generate_series(
        cast(first_date as timestamp), cast(last_date as timestamp), interval 1 day
    )) as date) as date
    from bounds
    where first_date is not null and last_date is not null
),

daily as (
    select
        calendar.date,
        weather.temp_max,
        weather.temp_min,
        weather.temp_avg,
        weather.humidity_avg,
        weather.precipitation_mm as precipitation,
        weather.wind_speed_max,
        sum(weather.precipitation_mm) over (
            order by calendar.date rows between 6 preceding and current row
        ) as rain_7d,
        sum(weather.precipitation_mm) over (
            order by calendar.date rows between 29 preceding and current row
        ) as rain_30d
    from calendar
    left join weather on weather.date = calendar.date
)

select
    spine.date,
    daily.temp_max,
    daily.temp_min,
    daily.temp_avg,
    daily.humidity_avg,
    daily.precipitation,
    daily.wind_speed_max,
    cast(daily.temp_max > {{ var('hot_temp_max_c') }} as integer)             as is_hot,
    cast(daily.precipitation > {{ var('rainy_precipitation_mm') }} as integer) as is_rainy,
    cast(daily.humidity_avg > {{ var('humid_humidity_pct') }} as integer)     as is_humid,
    daily.rain_7d,
    daily.rain_30d
from spine
left join daily on daily.date = spine.date
order by spine.date
