-- Installed base: the equipment on each tower, one row per equipment_id (the ERP import keeps the key unique).
select
    trim(cast(equipment_id as varchar))                         as equipment_id,
    trim(cast(equipment_type as varchar))                       as equipment_type,
    coalesce(nullif(trim(cast(model as varchar)), ''), trim(cast(equipment_type as varchar))) as model,
    trim(cast(site_id as varchar))                              as site_id,
    cast(install_date as date)                                  as install_date,
    coalesce(cast(status as varchar), 'active')                 as status,
    cast(decommission_date as date)                             as decommission_date
from {{ source('raw', 'erp_installed_base') }}
where equipment_id is not null
