-- Total demand per material in fct_item_daily_demand equals the sum of the deduplicated
-- issue quantities of stg_erp__movements (nothing lost or double counted by the joins).
with issues as (
    select material_id, sum(quantity) as issued
    from {{ ref('stg_erp__movements') }}
    where movement_type = 'issue'
    group by material_id
),

fct as (
    select material_id, sum(demand) as demand
    from {{ ref('fct_item_daily_demand') }}
    group by material_id
)

select
    fct.material_id,
    fct.demand,
    coalesce(issues.issued, 0) as issued
from fct
left join issues on issues.material_id = fct.material_id
where abs(fct.demand - coalesce(issues.issued, 0)) > 1e-9
