{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='date',
    on_schema_change='fail',
    pre_hook=["{{ prune_outside_spine(ref('int_calendar_spine')) }}"]
) }}
-- Daily demand (issued quantity) per material x site, dense: every material x site pair that
-- ever had a movement (issue or receipt) gets one row per spine day, with explicit zeros.
-- Incremental by date (macros/incremental.sql): an incremental run rewrites only the days of
-- the start_date/end_date window (plus days after the table's last day); a full refresh, or a
-- change of the pair set / spine bounds, rewrites every day.
with movements as (
    select * from {{ ref('stg_erp__movements') }}
),

pairs as (
    select distinct material_id, site_id from movements
),

bounds as materialized (  -- read by several clauses: computed once
    {{ incremental_bounds(
        spine=ref('int_calendar_spine'),
        key_columns='material_id, site_id',
        expected_keys='select distinct material_id, site_id from ' ~ ref('stg_erp__movements')
    ) }}
),

spine as (
    select date
    from {{ ref('int_calendar_spine') }}
    where {{ in_write_window('date') }}
),

issues as (
    select
        material_id,
        site_id,
        movement_date as date,
        sum(quantity) as demand
    from movements
    where movement_type = 'issue'
      and movement_date >= (select write_from from bounds)
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
