-- External drivers on the daily spine: Salvador 5G roll-out (ANATEL) and holidays.
--
-- * 5G: the monthly figure of month M is used from the first day of M+1 on (last COMPLETED
--   month, no look-ahead); growth = total(M) / total(M-1) - 1 (NULL when M-1 is missing).
-- * Holidays: the calendar is known in advance, so the current and next holiday are fair
--   features. holiday_scope is the broadest scope of the day's holidays
--   (national > state > municipal > optional), 'none' on ordinary days.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

salvador_5g as (
    select
        month as stations_5g_reference_month,
        cast(month + interval 1 month as date) as available_from,
        stations_5g_total,
        stations_5g_new,
        case
            when lag(month) over (order by month) = cast(month - interval 1 month as date)
                then stations_5g_total::double
                     / nullif(lag(stations_5g_total) over (order by month), 0) - 1
        end as stations_5g_growth
    from {{ ref('stg_anatel__5g_monthly') }}
    where left(ibge_code, 6) = left('{{ var("salvador_ibge_code") }}', 6)
),

holiday_days as (
    select
        date,
        true as is_holiday,
        bool_or(is_major) as is_major_holiday,
        case min(case scope
                when 'national' then 1 when 'state' then 2
                when 'municipal' then 3 when 'optional' then 4 else 5 end)
            when 1 then 'national' when 2 then 'state'
            when 3 then 'municipal' when 4 then 'optional' else 'other'
        end as holiday_scope,
        string_agg(name, ' / ' order by name) as holiday_name
    from {{ ref('stg_calendar__holidays') }}
    group by date
),

next_holiday as (
    select date as next_holiday_date from holiday_days
)

select
    spine.date,
    g.stations_5g_total,
    g.stations_5g_new,
    g.stations_5g_growth,
    g.stations_5g_reference_month,
    cast(coalesce(h.is_holiday, false) as integer)       as is_holiday,
    coalesce(h.holiday_scope, 'none')                    as holiday_scope,
    cast(coalesce(h.is_major_holiday, false) as integer) as is_major_holiday,
    h.holiday_name,
    cast(date_diff('day', spine.date, n.next_holiday_date) as integer) as days_to_next_holiday
from spine
asof left join salvador_5g as g on spine.date >= g.available_from
left join holiday_days as h on h.date = spine.date
asof left join next_holiday as n on spine.date <= n.next_holiday_date
order by spine.date
