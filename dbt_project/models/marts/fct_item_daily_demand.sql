{{ config(
    post_hook=["{{ export_to_silver('material_id, date') }}"]
) }}
-- Daily demand per material (total over sites), dense: every material of the material
-- master gets one row per spine day, with explicit zeros. Also exported to
-- $NOVA_LAKE_DIR/silver/fct_item_daily_demand.parquet.
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

materials as (
    select material_id from {{ ref('stg_erp__materials') }}
),

item_demand as (
    select material_id, date, sum(demand) as demand
    from {{ ref('fct_item_site_daily_demand') }}
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
