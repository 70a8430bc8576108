-- Economic indicators on the daily spine, forward-filled WITHOUT look-ahead.
--
-- * selic / usd_brl: a day takes the last value published on or before that day
--   (ASOF join on published date <= day). Weekends/holidays carry Friday's PTAX.
-- * IPCA: the value of month M is only known after M ends (IBGE actually publishes it around
--   the 10th of M+1). A day in month M therefore uses the last COMPLETED month (M-1 or
--   earlier): the monthly value becomes available on the first day of the next month.
--   This ignores the ~10-day IBGE publication lag inside M+1 (slightly optimistic on days
--   1-10 of a month); shift `available_from` if a stricter rule is needed.
-- * Days before the first published value stay NULL (no back-fill).
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
        end as ipca_change
    from {{ ref('stg_economics__ipca') }}
)

select
    spine.date,
    selic.selic,
    selic.published_date          as selic_published_date,
    usd.usd_brl,
    usd.exchange_volatility_30d,
    usd.published_date            as usd_brl_published_date,
    ipca.ipca                     as inflation_ipca,
    ipca.ipca_change              as inflation_change,
    ipca.ipca_reference_month
from spine
asof left join selic on spine.date >= selic.published_date
asof left join usd   on spine.date >= usd.published_date
asof left join ipca  on spine.date >= ipca.available_from
order by spine.date
