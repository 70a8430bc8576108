{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='date',
    on_schema_change='fail',
    pre_hook=["{{ prune_outside_spine(ref('int_calendar_spine')) }}"],
    post_hook=["{{ export_to_silver('material_id, date') }}"]
) }}
-- Daily demand per material (total over sites), dense: every material of the material
-- master gets one row per spine day, with explicit zeros. Incremental by date like
-- fct_item_site_daily_demand. The post-hook exports the WHOLE table (not only the rewritten
-- days) to $NOVA_LAKE_DIR/silver/fct_item_daily_demand.parquet.
with materials as (
    select material_id from {{ ref('stg_erp__materials') }}
),

bounds as materialized (  -- read by several clauses: computed once
    {{ incremental_bounds(
        spine=ref('int_calendar_spine'),
        key_columns='material_id',
        expected_keys='select material_id from ' ~ ref('stg_erp__materials')
    ) }}
),

spine as (
    select date
    from {{ ref('int_calendar_spine') }}
    where {{ in_write_window('date') }}
),

-- the days with demand only: the site fact is dense and mostly zeros, which add nothing to a sum
-- (a material-day without a row gets its zero below)
item_demand as (
    select material_id, date, sum(demand) as demand
    from {{ ref('fct_item_site_daily_demand') }}
    where date >= (select write_from from bounds) and demand <> 0
    group by material_id, date
)

select
    materials.material_id,
    spine.date,
    cast(coalesce(item_demand.demand, 0) as double) as demand
from materials
cross join spine
left join item_demand
    on  item_demand.material_id = materials.material_id
    and item_demand.date = spine.date
order by materials.material_id, spine.date
