-- Parts of each maintenance order: issued on a completed order, reserved on an open one.
select
    trim(cast(work_order_id as varchar))   as work_order_id,
    trim(cast(material_id as varchar))     as material_id,
    cast(quantity as double)               as quantity
from {{ source('raw', 'erp_work_order_parts') }}
where work_order_id is not null and material_id is not null
