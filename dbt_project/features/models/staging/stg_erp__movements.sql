-- Stock movements: typed, invalid rows dropped, deduplicated.
--
-- Dedup rule: overlapping and corrected re-exports are already resolved when the raw table is
-- built (nova_assets/lib/sources/erp_store.py; rule in data/README.md). What is left here:
-- a movement with a document number (movement_id) is identified by it, so two equal issues
-- on one day under different documents both count; a movement without one is identified by
-- its business key (movement_date, material_id, site_id, movement_type, quantity), and
-- duplicates of that key are collapsed to one row (the alphabetically first source_file).
--
-- A table, unlike the other staging models: as a view, every model and test that reads it (a dozen)
-- would deduplicate all movement lines again.
{{ config(materialized='table') }}

with source as (
    select * from {{ source('raw', 'erp_movements') }}
),

typed as (
    select
        cast(movement_date as date)                  as movement_date,
        trim(cast(material_id as varchar))           as material_id,
        trim(cast(site_id as varchar))               as site_id,
        lower(trim(cast(movement_type as varchar)))  as movement_type,
        cast(quantity as double)                     as quantity,
        nullif(trim(cast(movement_id as varchar)), '') as movement_id,
        nullif(trim(cast(po_id as varchar)), '')     as po_id,
        cast(source_file as varchar)                 as source_file
    from source
    where movement_date is not null
      and material_id is not null
      and site_id is not null
      and movement_type is not null
      and quantity is not null
      and quantity > 0
),

deduplicated as (
    select *
    from typed
    qualify row_number() over (
        partition by coalesce(
            'doc|' || movement_id, concat_ws('|', movement_date, material_id, site_id, movement_type, quantity)
        )
        order by source_file nulls last
    ) = 1
)

select
    md5(coalesce(
        'doc|' || movement_id, concat_ws('|', movement_date, material_id, site_id, movement_type, quantity)
    )) as movement_key,
    movement_id,
    po_id,
    movement_date,
    material_id,
    site_id,
    movement_type,
    quantity,
    source_file
from deduplicated
