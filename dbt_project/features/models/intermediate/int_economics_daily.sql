-- Economic indicators on the daily spine, forward-filled WITHOUT look-ahead, and a market
-- condition index built only from values known on the day.
--
-- * selic / usd_brl: a day takes the last value published on or before that day
--   (ASOF join on published date <= day). Weekends/holidays carry Friday's PTAX.
-- * IPCA: the value of month M is only known after M ends (IBGE actually publishes it around
--   the 10th of M+1). A day in month M therefore uses the last COMPLETED month (M-1 or
--   earlier): the monthly value becomes available on the first day of the next month.
--   This ignores the ~10-day IBGE publication lag inside M+1 (slightly optimistic on days
--   1-10 of a month); shift `available_from` if a stricter rule is needed.
-- * Days before the first published value stay NULL (no back-fill).
-- * market_condition_index = mean of three TRAILING z-scores (higher = harder market for an
--   importer of spare parts: weaker real, tighter credit, higher inflation):
--     usd_brl_z  (forward-filled PTAX of the day vs the trailing `market_z_window_days` days),
--     selic_z    (SELIC of the day vs the same trailing window),
--     ipca_z     (IPCA in use vs the 12 monthly values up to and including it).
--   Each z uses the window ending on the day itself (known values only), is 0 when the window
--   has no variation, and is NULL until `market_z_min_days` days (12 months for IPCA) of
--   history exist; the index is NULL when any of the three is NULL.
{%- set z_window = var('market_z_window_days') | int %}
{%- set z_min = var('market_z_min_days') | int %}
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

selic as (
    select date as published_date, selic
    from {{ ref('stg_economics__selic') }}
),

usd_returns as (
    select
        date as published_date,
        usd_brl,
        100.0 * (usd_brl / lag(usd_brl) over (order by date) - 1) as usd_brl_pct_change
    from {{ ref('stg_economics__usd_brl') }}
),

usd as (
    select
        published_date,
        usd_brl,
        -- volatility = sample std of the daily % changes of the quotes published in the
        -- 30 calendar days ending on the quote date
        stddev_samp(usd_brl_pct_change) over (
            order by published_date
            range between interval 29 days preceding and current row
        ) as exchange_volatility_30d
    from usd_returns
),

ipca as (
    select
        month as ipca_reference_month,
        cast(month + interval 1 month as date) as available_from,
        ipca,
        case
            when lag(month) over (order by month) = cast(month - interval 1 month as date)
                then ipca - lag(ipca) over (order by month)
        end as ipca_change,
        case
            when count(ipca) over w_12 = 12
                then coalesce((ipca - avg(ipca) over w_12) / nullif(stddev_samp(ipca) over w_12, 0), 0)
        end as ipca_z
    from {{ ref('stg_economics__ipca') }}
    window w_12 as (order by month rows between 11 preceding and current row)
),

-- gap-free calendar that starts a z-window before the spine, so the first spine days already
-- have a full trailing window
calendar as (
    select cast(unnest(generate_series(
        cast(first_date as timestamp), cast(last_date as timestamp), interval 1 day
    )) as date) as date
    from (
        select
            cast(min(date) - interval {{ z_window }} day as date) as first_date,
            max(date) as last_date
        from spine
    ) as bounds
    where first_date is not null
),

daily as (
    select
        calendar.date,
        selic.selic,
        selic.published_date          as selic_published_date,
        usd.usd_brl,
        usd.exchange_volatility_30d,
        usd.published_date            as usd_brl_published_date,
        ipca.ipca                     as inflation_ipca,
        ipca.ipca_change              as inflation_change,
        ipca.ipca_reference_month,
        ipca.ipca_z
    from calendar
    asof left join selic on calendar.date >= selic.published_date
    asof left join usd   on calendar.date >= usd.published_date
    asof left join ipca  on calendar.date >= ipca.available_from
),

scored as (
    select
        *,
        case
            when usd_brl is not null and count(usd_brl) over w_z >= {{ z_min }}
                then coalesce((usd_brl - avg(usd_brl) over w_z) / nullif(stddev_samp(usd_brl) over w_z, 0), 0)
        end as usd_brl_z,
        case
            when selic is not null and count(selic) over w_z >= {{ z_min }}
                then coalesce((selic - avg(selic) over w_z) / nullif(stddev_samp(selic) over w_z, 0), 0)
        end as selic_z
    from daily
    window w_z as (order by date rows between {{ z_window - 1 }} preceding and current row)
)

select
    spine.date,
    scored.selic,
    scored.selic_published_date,
    scored.usd_brl,
    scored.exchange_volatility_30d,
    scored.usd_brl_published_date,
    scored.inflation_ipca,
    scored.inflation_change,
    scored.ipca_reference_month,
    scored.usd_brl_z,
    scored.selic_z,
    scored.ipca_z,
    (scored.usd_brl_z + scored.selic_z + scored.ipca_z) / 3.0 as market_condition_index
from spine
inner join scored on scored.date = spine.date
order by spine.date
