-- Material master: typed, trimmed, one row per material_id.
with source as (
    select * from {{ source('raw', 'erp_materials') }}
),

typed as (
    select
        trim(cast(material_id as varchar))          as material_id,
        trim(cast(description as varchar))          as description,
        trim(cast(category as varchar))             as category,
        trim(cast(unit as varchar))                 as unit,
        cast(unit_cost as double)                   as unit_cost,
        upper(trim(cast(criticality as varchar)))   as criticality,
        nullif(trim(cast(supplier_id as varchar)), '') as supplier_id,
        nullif(trim(cast(supersedes as varchar)), '') as supersedes
    from source
    where material_id is not null and trim(cast(material_id as varchar)) <> ''
)

select *
from typed
-- duplicates of a material id: keep the most complete row, deterministically
qualify row_number() over (
    partition by material_id
    order by (unit_cost is null), (criticality is null), description, category, supplier_id
) = 1
