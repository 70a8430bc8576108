{{ config(indexes=[{'columns': ['cycle_date'], 'unique': true}]) }}
-- One KPI row per cycle (day): the dashboard's header.
--   stockout_rate        materials with expected demand and nothing on hand / materials with expected demand
--   site_stockout_rate   the same per (material, site) with issues in the last 90 days
--   fill_rate_*          from the policy backtest (simulated), project policy and baseline
--   ensemble_* / best_*  backtest accuracy (MASE, RMSSE) and forecast value added over seasonal naive
--   inventory_value_brl  stock on hand x unit cost
--   savings_brl          baseline policy's average inventory value - the project policy's (backtest)
{% set baseline = var("baseline_policy") %}
with rp as (
    -- one row per material: the project's policy when the cycle has one, else the baseline
    select distinct on (cycle_date, material_id) *
    from {{ source('analytics', 'reorder_points') }}
    order by cycle_date, material_id, (policy = '{{ baseline }}'), policy
),

stock as (
    select
        rp.cycle_date,
        count(*) as materials,
        avg(case when rp.stock_on_hand <= 0 then 1.0::double precision else 0.0 end) filter (where rp.mean_daily_demand > 0)
            as stockout_rate,
        avg(case when rp.stock_position <= rp.reorder_point then 1.0::double precision else 0.0 end) as below_reorder_point_rate,
        sum(rp.stock_on_hand * m.unit_cost) as inventory_value_brl
    from rp
    inner join {{ source('core', 'materials') }} as m using (material_id)
    group by rp.cycle_date
),

sites as (
    select
        cycle_date,
        avg(case when on_hand <= 0 then 1.0::double precision else 0.0 end) filter (where mean_daily_demand > 0) as site_stockout_rate
    from {{ source('analytics', 'site_inventory') }}
    group by cycle_date
),

alerts as (
    select
        cycle_date,
        count(*) filter (where severity = 'CRÍTICO') as alerts_critical,
        count(*) filter (where severity = 'ALTO') as alerts_high,
        count(*) filter (where severity = 'MÉDIO') as alerts_medium,
        bool_or(is_stale) as data_is_stale
    from {{ source('analytics', 'alerts') }}
    group by cycle_date
),

accuracy as (
    select
        cycle_date,
        max(mase) filter (where is_ensemble) as ensemble_mase,
        max(rmsse) filter (where is_ensemble) as ensemble_rmsse,
        max(fva_rmsse) filter (where is_ensemble) as ensemble_fva_rmsse,
        min(rmsse) filter (where full_coverage) as best_rmsse,
        (array_agg(model order by rmsse asc nulls last) filter (where full_coverage))[1] as best_model
    from {{ ref('model_comparison') }}
    group by cycle_date
),

exposure as (
    select cycle_date, sum(exposure_brl) as sla_exposure_brl
    from {{ ref('sla_exposure') }}
    group by cycle_date
),

backtest as (
    -- the replay of the demand history under each policy, all materials together (segment 'all')
    select
        cycle_date,
        max(fill_rate) filter (where policy <> '{{ baseline }}') as project_fill_rate,
        max(fill_rate) filter (where policy = '{{ baseline }}') as baseline_fill_rate,
        max(avg_inventory_value) filter (where policy <> '{{ baseline }}') as project_inventory_value_brl,
        max(avg_inventory_value) filter (where policy = '{{ baseline }}') as baseline_inventory_value_brl
    from {{ source('analytics', 'policy_backtest') }}
    where segment = 'all'
    group by cycle_date
)

select
    s.cycle_date,
    s.materials,
    s.stockout_rate,
    si.site_stockout_rate,
    s.below_reorder_point_rate,
    b.project_fill_rate as fill_rate_project,
    b.baseline_fill_rate as fill_rate_baseline,
    a.ensemble_mase,
    a.ensemble_rmsse,
    a.ensemble_fva_rmsse,
    a.best_model,
    a.best_rmsse,
    s.inventory_value_brl,
    b.baseline_inventory_value_brl - b.project_inventory_value_brl as savings_brl,
    coalesce(al.alerts_critical, 0) as alerts_critical,
    coalesce(al.alerts_high, 0) as alerts_high,
    coalesce(al.alerts_medium, 0) as alerts_medium,
    coalesce(e.sla_exposure_brl, 0) as sla_exposure_brl,
    coalesce(al.data_is_stale, false) as data_is_stale
from stock as s
left join sites as si using (cycle_date)
left join alerts as al using (cycle_date)
left join accuracy as a using (cycle_date)
left join exposure as e using (cycle_date)
left join backtest as b using (cycle_date)
