-- Backtest scores of every model per cycle (the figures MLflow shows), with the forecast value
-- added over the seasonal-naive baseline, the rank within the cycle and the change since the
-- model's previous cycle.
with perf as (
    select * from {{ source('analytics', 'model_performance') }}
),

naive as (
    select cycle_date, mase as naive_mase, rmsse as naive_rmsse
    from perf
    where model = '{{ var("naive_model") }}'
),

coverage as (
    -- scored on (nearly) every series the ensemble is: only such models are ranked against each other
    select
        p.cycle_date,
        p.model,
        p.n_series >= {{ var("full_coverage_share") }} * e.n_series as full_coverage
    from perf as p
    join perf as e on e.cycle_date = p.cycle_date and e.model = '{{ var("ensemble_model") }}'
)

select
    p.cycle_date,
    p.model,
    p.family,
    p.model = '{{ var("ensemble_model") }}' as is_ensemble,
    p.mase,
    p.rmsse,
    p.bias,
    p.total_demand_error,
    p.n_series,
    coalesce(c.full_coverage, true) as full_coverage,
    case when n.naive_rmsse > 0 then 1 - p.rmsse / n.naive_rmsse end as fva_rmsse,
    case when n.naive_mase > 0 then 1 - p.mase / n.naive_mase end as fva_mase,
    case when coalesce(c.full_coverage, true) then
        rank() over (
            partition by p.cycle_date, coalesce(c.full_coverage, true) order by p.rmsse asc nulls last
        )
    end as rmsse_rank,
    p.rmsse - lag(p.rmsse) over (partition by p.model order by p.cycle_date) as rmsse_change,
    p.mlflow_run_id
from perf as p
left join naive as n using (cycle_date)
left join coverage as c on c.cycle_date = p.cycle_date and c.model = p.model
