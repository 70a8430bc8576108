{{ config(
    materialized='incremental',
    unique_key='cycle_date',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['cycle_date'], 'unique': true}],
) }}
-- How each cycle's ensemble forecast did on the days that have passed since: realised accuracy, one
-- row per cycle (model_comparison is the backtest, the same model scored on the past before the cycle).
-- The demand is analytics.demand_history of its latest cycle: the last days of the daily demand per
-- material the forecast is made from. A cycle is complete once every forecast day is observed; the
-- model is incremental so that complete cycles stay as they were measured after their days leave
-- demand_history, and each run recomputes only the cycles after the last complete one.
--   days_observed      forecast days with observed demand, of horizon_days
--   bias               forecast total / demand total - 1 over those days, all materials
--   wape               sum over (material, day) of |forecast - demand|, over the demand total
--   interval_coverage  share of (material, day) whose demand is inside the forecast's interval
--   backtest_bias      the ensemble's bias on its backtest at that cycle, to set beside bias
with observed as (
    select material_id, demand_date, demand
    from {{ source('analytics', 'demand_history') }}
    where cycle_date = (select max(cycle_date) from {{ source('analytics', 'demand_history') }})
),

observed_days as (
    select min(demand_date) as first_day, max(demand_date) as last_day from observed
),

forecast as (
    -- cycles whose first forecast day is still in demand_history and whose days have begun
    select f.cycle_date, f.material_id, f.forecast_date, f.forecast, f.forecast_lo, f.forecast_hi, f.interval_level
    from {{ source('analytics', 'forecasts') }} as f
    where f.model = '{{ var("ensemble_model") }}'
        and f.cycle_date >= (select first_day - 1 from observed_days)
        and f.cycle_date < (select last_day from observed_days)
    {% if is_incremental() %}
        and f.cycle_date > (select coalesce(max(cycle_date), '-infinity'::date) from {{ this }} where complete)
    {% endif %}
),

horizon as (
    select cycle_date, count(distinct forecast_date) as horizon_days from forecast group by cycle_date
),

paired as (
    select f.*, o.demand
    from forecast as f
    inner join observed as o on o.material_id = f.material_id and o.demand_date = f.forecast_date
),

measured as (
    select
        cycle_date,
        count(distinct material_id) as materials,
        count(distinct forecast_date) as days_observed,
        max(forecast_date) as last_day_observed,
        sum(forecast) as forecast_total,
        sum(demand) as demand_total,
        sum(abs(forecast - demand)) as absolute_error,
        avg(case when demand between forecast_lo and forecast_hi then 1.0::double precision else 0.0 end)
            filter (where forecast_lo is not null and forecast_hi is not null) as interval_coverage,
        max(interval_level) as interval_level
    from paired
    group by cycle_date
)

select
    m.cycle_date,
    m.materials,
    m.days_observed,
    h.horizon_days,
    m.days_observed = h.horizon_days as complete,
    m.last_day_observed,
    m.forecast_total,
    m.demand_total,
    case when m.demand_total > 0 then m.forecast_total / m.demand_total - 1 end as bias,
    case when m.demand_total > 0 then m.absolute_error / m.demand_total end as wape,
    m.interval_coverage,
    m.interval_level,
    c.bias as backtest_bias
from measured as m
inner join horizon as h using (cycle_date)
left join {{ ref('model_comparison') }} as c
    on c.cycle_date = m.cycle_date and c.model = '{{ var("ensemble_model") }}'
