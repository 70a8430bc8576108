{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='date',
    on_schema_change='fail',
    pre_hook=["{{ prune_outside_spine(ref('int_calendar_spine')) }}"],
    post_hook=["{{ export_to_silver('material_id, date') }}"]
) }}
-- Feature table per material and day (grain of fct_item_daily_demand). The post-hook exports
-- the WHOLE table to $NOVA_LAKE_DIR/silver/feat_item_daily.parquet.
--
-- No-leakage rule: every DEMAND feature of day d is computed from days strictly before d
-- (window frames end at `1 preceding`, monthly seasonality uses completed months only), so the
-- demand of day d never enters the features of day d. Windows are ROWS-based, which is
-- correct because fct_item_daily_demand is dense (one row per material and spine day).
-- Rolling features need a full window (NULL before). Exogenous features (weather, economics,
-- 5G, holidays, maintenance, suppliers) follow the availability rules of their intermediate
-- models.
--
-- Incremental by date (macros/incremental.sql): only the rows of the window are (re)written,
-- but their windowed features read a look-back of the fact table (13 months before the first
-- written month, enough for the 365-day and trailing-year windows) plus the last demand day
-- before the look-back, so an incremental run gives the same rows as a full refresh.
{%- set adi_cut = var('sb_adi_cutoff') %}
{%- set cv2_cut = var('sb_cv2_cutoff') %}
with materials as (
    select material_id, supplier_id, criticality, unit_cost
    from {{ ref('stg_erp__materials') }}
),

bounds as materialized (  -- read by several clauses: computed once
    {{ incremental_bounds(
        spine=ref('int_calendar_spine'),
        key_columns='material_id',
        expected_keys='select material_id from ' ~ ref('stg_erp__materials')
    ) }}
),

lookback as (
    select
        case
            when rebuild_all then cast('0001-01-01' as date)
            else cast(date_trunc('month', write_from) - interval 13 month as date)
        end as lookback_from
    from bounds
),

demand as (
    select material_id, date, demand
    from {{ ref('fct_item_daily_demand') }}
    where date >= (select lookback_from from lookback)
),

-- last day with demand before the look-back (only used by incremental runs)
demand_before_lookback as (
    select material_id, max(date) as last_demand_date
    from {{ ref('fct_item_daily_demand') }}
    where date < (select lookback_from from lookback) and demand > 0
    group by material_id
),

demand_windows as (
    select
        material_id,
        date,
        demand,
        lag(demand, 1)  over w_order as lag_1,
        lag(demand, 7)  over w_order as lag_7,
        lag(demand, 14) over w_order as lag_14,
        lag(demand, 30) over w_order as lag_30,
        {%- for n in [7, 14, 30] %}
        case when count(demand) over w_{{ n }} = {{ n }} then avg(demand) over w_{{ n }} end          as ma_{{ n }},
        case when count(demand) over w_{{ n }} = {{ n }} then stddev_samp(demand) over w_{{ n }} end  as std_{{ n }},
        {%- endfor %}
        case
            when count(demand) over w_90 = 90
                then regr_slope(demand, cast(date_diff('day', date '2000-01-01', date) as double)) over w_90
        end                                                            as trend,
        max(case when demand > 0 then date end) over w_past           as last_demand_date,
        count(demand) over w_365                                       as history_days_365,
        count(case when demand > 0 then 1 end) over w_365              as demand_days_365,
        avg(case when demand > 0 then demand end) over w_365           as mean_nonzero_365,
        stddev_pop(case when demand > 0 then demand end) over w_365    as std_nonzero_365
    from demand
    window
        w_order as (partition by material_id order by date),
        w_7     as (partition by material_id order by date rows between 7 preceding and 1 preceding),
        w_14    as (partition by material_id order by date rows between 14 preceding and 1 preceding),
        w_30    as (partition by material_id order by date rows between 30 preceding and 1 preceding),
        w_90    as (partition by material_id order by date rows between 90 preceding and 1 preceding),
        w_365   as (partition by material_id order by date rows between 365 preceding and 1 preceding),
        w_past  as (partition by material_id order by date rows between unbounded preceding and 1 preceding)
),

-- Seasonal index of a month M: mean daily demand of the same calendar month one year earlier
-- (M-12) over the mean daily demand of the 12 COMPLETED months M-12 .. M-1. Days of M get the
-- index of M; NULL unless those 12 months are fully on the spine and had some demand.
monthly as (
    select
        material_id,
        cast(date_trunc('month', date) as date) as month,
        sum(demand) as month_demand,
        count(*) as month_days
    from demand
    group by material_id, date_trunc('month', date)
),

monthly_seasonal as (
    select
        material_id,
        month,
        count(*) over w_12m                       as months_12m,
        sum(month_days) over w_12m                as days_12m,
        sum(month_demand) over w_12m              as demand_12m,
        first_value(month) over w_12m             as same_month_last_year,
        first_value(month_demand) over w_12m      as same_month_demand,
        first_value(month_days) over w_12m        as same_month_days
    from monthly
    window w_12m as (partition by material_id order by month rows between 12 preceding and 1 preceding)
),

seasonal as (
    select
        material_id,
        month,
        case
            when months_12m = 12
             and same_month_last_year = cast(month - interval 12 month as date)
             and days_12m = date_diff('day', cast(month - interval 12 month as date), month)
             and demand_12m > 0
                then (same_month_demand / same_month_days) / (demand_12m / days_12m)
        end as seasonal_index
    from monthly_seasonal
),

demand_features as (
    select
        w.*,
        cast(date_diff(
            'day', coalesce(w.last_demand_date, before_lookback.last_demand_date), w.date
        ) as integer) as days_since_last_demand,
        w.history_days_365::double / nullif(w.demand_days_365, 0) as adi,
        case
            when w.demand_days_365 > 0 and w.mean_nonzero_365 > 0
                then power(w.std_nonzero_365 / w.mean_nonzero_365, 2)
        end as cv2
    from demand_windows as w
    left join demand_before_lookback as before_lookback on before_lookback.material_id = w.material_id
    where {{ in_write_window('w.date') }}
)

select
    d.material_id,
    d.date,
    d.demand,

    -- weather (same day, Salvador)
    w.temp_max,
    w.temp_min,
    w.temp_avg,
    w.humidity_avg,
    w.precipitation,
    w.is_hot,
    w.is_rainy,
    w.is_humid,
    w.rain_7d,
    w.rain_30d,

    -- economics (last published value, IPCA of the last completed month)
    e.inflation_ipca,
    e.usd_brl,
    e.selic,
    e.inflation_change,
    e.exchange_volatility_30d,

    -- calendar
    cast(isodow(d.date) - 1 as integer)                  as day_of_week,
    cast(month(d.date) as integer)                       as month,
    cast(quarter(d.date) as integer)                     as quarter,
    cast(dayofyear(d.date) as integer)                   as day_of_year,
    cast(isodow(d.date) >= 6 as integer)                 as is_weekend,
    sin(2 * pi() * month(d.date) / 12)                   as month_sin,
    cos(2 * pi() * month(d.date) / 12)                   as month_cos,
    sin(2 * pi() * (isodow(d.date) - 1) / 7)             as dow_sin,
    cos(2 * pi() * (isodow(d.date) - 1) / 7)             as dow_cos,
    cast(weekofyear(d.date) as integer)                  as week_of_year,

    -- demand history (strictly past days)
    d.lag_1,
    d.lag_7,
    d.lag_14,
    d.lag_30,
    d.ma_7,
    d.ma_14,
    d.ma_30,
    d.std_7,
    d.std_14,
    d.std_30,
    d.trend,
    s.seasonal_index,
    d.days_since_last_demand,
    d.adi,
    d.cv2,
    case
        when d.adi is null or d.cv2 is null then null
        when d.adi <  {{ adi_cut }} and d.cv2 <  {{ cv2_cut }} then 'smooth'
        when d.adi <  {{ adi_cut }} and d.cv2 >= {{ cv2_cut }} then 'erratic'
        when d.adi >= {{ adi_cut }} and d.cv2 <  {{ cv2_cut }} then 'intermittent'
        else 'lumpy'
    end as sb_class,

    -- external drivers
    x.stations_5g_total,
    x.stations_5g_growth,
    x.is_holiday,
    x.holiday_scope,
    x.is_major_holiday,
    x.days_to_next_holiday,
    coalesce(mt.maintenance_flag, 0)                     as maintenance_flag,
    coalesce(mt.towers_in_maintenance, 0)                as towers_in_maintenance,
    case when m.supplier_id is null then 'unknown' else coalesce(sp.supplier_status, 'no_open_orders') end
                                                         as supplier_status,
    sp.supplier_open_orders,
    sp.supplier_overdue_orders,
    sp.supplier_max_days_overdue,
    e.market_condition_index,

    -- item attributes
    m.criticality,
    m.unit_cost
from demand_features as d
left join seasonal as s
    on s.material_id = d.material_id and s.month = cast(date_trunc('month', d.date) as date)
left join {{ ref('int_weather_daily') }}     as w  on w.date = d.date
left join {{ ref('int_economics_daily') }}   as e  on e.date = d.date
left join {{ ref('int_external_daily') }}    as x  on x.date = d.date
left join {{ ref('int_maintenance_daily') }} as mt on mt.date = d.date
left join materials                          as m  on m.material_id = d.material_id
left join {{ ref('int_supplier_daily') }}    as sp on sp.supplier_id = m.supplier_id and sp.date = d.date
order by d.material_id, d.date
