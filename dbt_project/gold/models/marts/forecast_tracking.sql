{{ config(
    materialized='incremental',
    unique_key='cycle_date',
    incremental_strategy='delete+insert',
    full_refresh=false,
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['cycle_date'], 'unique': true}],
) }}
-- How each cycle's ensemble forecast did on the days that have passed since: realised accuracy, one
-- row per cycle (model_comparison is the backtest, the same model scored on the past before the cycle).
-- The demand is analytics.demand_history of its latest cycle: the last days of the daily demand per
-- material the forecast is made from. A cycle is complete once every forecast day is observed and
-- its last one is no longer the newest day (which the next export may still correct). The model is
-- incremental, and a full refresh does not rebuild it: complete cycles stay as they were measured
-- after their days leave demand_history, and each run measures again only the cycles not complete.
--   materials          the most materials scored on one day
--   days_observed      forecast days with observed demand, of horizon_days
--   bias               forecast total / demand total - 1 over those days, all materials
--   wape               sum over (material, day) of |forecast - demand|, over the demand total
--   interval_coverage  share of (material, day) whose demand is inside the forecast's interval
--   backtest_bias      the ensemble's bias on its backtest at that cycle, to set beside bias
--   measured_through   the newest observed day when the row was measured (a complete row's is the
--                      run that completed it: the bias test judges those of the latest run only)
with observed as (
    select material_id, demand_date, demand
    from {{ source('analytics', 'demand_history') }}
    where cycle_date = (select max(cycle_date) from {{ source('analytics', 'demand_history') }})
),

observed_days as (
    select min(demand_date) as first_day, max(demand_date) as last_day from observed
),

daily as (
    -- one pass over the ensemble's rows of the cycles to measure (those whose first forecast day is
    -- still in demand_history and whose days have begun), per cycle and forecast day
    select
        f.cycle_date,
        f.forecast_date,
        count(o.demand) as materials,
        sum(f.forecast) filter (where o.demand is not null) as forecast_total,
        sum(o.demand) as demand_total,
        sum(abs(f.forecast - o.demand)) as absolute_error,
        count(*) filter (where o.demand between f.forecast_lo and f.forecast_hi) as inside,
        count(*) filter (where o.demand is not null and f.forecast_lo is not null and f.forecast_hi is not null)
            as with_interval,
        max(f.interval_level) as interval_level
    from {{ source('analytics', 'forecasts') }} as f
    left join observed as o on o.material_id = f.material_id and o.demand_date = f.forecast_date
    where f.model = '{{ var("ensemble_model") }}'
        and f.cycle_date >= (select first_day - 1 from observed_days)
        and f.cycle_date < (select last_day from observed_days)
    {% if is_incremental() %}
        -- the cycles not complete: the earliest incomplete one on (a bound the partitions are pruned by)
        and f.cycle_date >= (
            select coalesce(least(min(cycle_date) filter (where not complete), max(cycle_date) + 1), '-infinity'::date)
            from {{ this }}
        )
        and not exists (select 1 from {{ this }} as t where t.cycle_date = f.cycle_date and t.complete)
    {% endif %}
    group by f.cycle_date, f.forecast_date
),

measured as (
    select
        cycle_date,
        max(materials) as materials,
        count(*) filter (where materials > 0) as days_observed,
        count(*) as horizon_days,
        max(forecast_date) filter (where materials > 0) as last_day_observed,
        sum(forecast_total) as forecast_total,
        sum(demand_total) as demand_total,
        sum(absolute_error) as absolute_error,
        sum(inside)::double precision / nullif(sum(with_interval), 0) as interval_coverage,
        max(interval_level) as interval_level
    from daily
    group by cycle_date
    having count(*) filter (where materials > 0) > 0
)

select
    m.cycle_date,
    m.materials,
    m.days_observed,
    m.horizon_days,
    m.days_observed = m.horizon_days and m.last_day_observed < d.last_day as complete,
    m.last_day_observed,
    m.forecast_total,
    m.demand_total,
    case when m.demand_total > 0 then m.forecast_total / m.demand_total - 1 end as bias,
    case when m.demand_total > 0 then m.absolute_error / m.demand_total end as wape,
    m.interval_coverage,
    m.interval_level,
    c.bias as backtest_bias,
    d.last_day as measured_through
from measured as m
cross join observed_days as d
left join {{ ref('model_comparison') }} as c
    on c.cycle_date = m.cycle_date and c.model = '{{ var("ensemble_model") }}'
