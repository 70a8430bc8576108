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
    case when n.naive_rmsse > 0 then 1 - p.rmsse / n.naive_rmsse end as fva_rmsse,
    case when n.naive_mase > 0 then 1 - p.mase / n.naive_mase end as fva_mase,
    rank() over (partition by p.cycle_date order by p.rmsse asc nulls last) as rmsse_rank,
    p.rmsse - lag(p.rmsse) over (partition by p.model order by p.cycle_date) as rmsse_change,
    p.mlflow_run_id
from perf as p
left join naive as n using (cycle_date)
