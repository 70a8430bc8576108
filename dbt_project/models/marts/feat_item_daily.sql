{{ config(
    post_hook=["{{ export_to_silver('material_id, date') }}"]
) }}
-- Feature table per material and day (grain of fct_item_daily_demand). Exported to
-- $NOVA_LAKE_DIR/silver/feat_item_daily.parquet.
--
-- No-leakage rule: every DEMAND feature of day d is computed from days strictly before d
-- (window frames end at `1 preceding`), so the demand of day d never enters the features of
-- day d. Windows are ROWS-based, which is correct because fct_item_daily_demand is dense
-- (one row per material and spine day). Rolling features need a full window (NULL before).
-- Exogenous features (weather, economics, 5G, holidays) follow their own availability rules
-- documented in the intermediate models.
{%- set adi_cut = var('sb_adi_cutoff') %}
{%- set cv2_cut = var('sb_cv2_cutoff') %}
with demand as (
    select material_id, date, demand
    from {{ ref('fct_item_daily_demand') }}
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
        w_365   as (partition by material_id order by date rows between 365 preceding and 1 preceding),
        w_past  as (partition by material_id order by date rows between unbounded preceding and 1 preceding)
),

demand_features as (
    select
        *,
        cast(date_diff('day', last_demand_date, date) as integer) as days_since_last_demand,
        history_days_365::double / nullif(demand_days_365, 0) as adi,
        case
            when demand_days_365 > 0 and mean_nonzero_365 > 0
                then power(std_nonzero_365 / mean_nonzero_365, 2)
        end as cv2
    from demand_windows
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

    -- external drivers and item attributes
    x.stations_5g_total,
    x.stations_5g_growth,
    x.is_holiday,
    x.holiday_scope,
    x.is_major_holiday,
    x.days_to_next_holiday,
    m.criticality,
    m.unit_cost
from demand_features as d
left join {{ ref('int_weather_daily') }}   as w on w.date = d.date
left join {{ ref('int_economics_daily') }} as e on e.date = d.date
left join {{ ref('int_external_daily') }}  as x on x.date = d.date
left join {{ ref('stg_erp__materials') }}  as m on m.material_id = d.material_id
order by d.material_id, d.date
