-- Daily demand (issued quantity) per material x site, dense: every material x site pair that
-- ever had a movement (issue or receipt) gets one row per spine day, with explicit zeros.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

movements as (
    select * from {{ ref('stg_erp__movements') }}
),

pairs as (
    select distinct material_id, site_id from movements
),

issues as (
    select
        material_id,
        site_id,
        movement_date as date,
        sum(quantity) as demand
    from movements
    where movement_type = 'issue'
    group by material_id, site_id, movement_date
)

select
    pairs.material_id,
    pairs.site_id,
    spine.date,
    cast(coalesce(issues.demand, 0) as double) as demand
from pairs
cross join spine
left join issues
    on  issues.material_id = pairs.material_id
    and issues.site_id = pairs.site_id
    and issues.date = spine.date
