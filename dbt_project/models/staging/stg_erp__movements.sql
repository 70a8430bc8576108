-- Stock movements: typed, invalid rows dropped, deduplicated.
--
-- Dedup rule: the raw table has no movement id, and the same movement shows up more than
-- once when ERP extracts overlap (same row under another source_file) or a file is ingested
-- twice. A movement is therefore identified by its business key
-- (movement_date, material_id, site_id, movement_type, quantity); duplicates of that key are
-- collapsed to one row (the alphabetically first source_file is kept).
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
        partition by movement_date, material_id, site_id, movement_type, quantity
        order by source_file nulls last
    ) = 1
)

select
    md5(concat_ws('|', movement_date, material_id, site_id, movement_type, quantity)) as movement_key,
    movement_date,
    material_id,
    site_id,
    movement_type,
    quantity,
    source_file
from deduplicated
