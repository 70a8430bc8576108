-- Maintenance orders: preventive (planned_date known when created) and corrective (failure_date).
select
    trim(cast(work_order_id as varchar))   as work_order_id,
    cast(kind as varchar)                  as kind,
    trim(cast(equipment_id as varchar))    as equipment_id,
    trim(cast(site_id as varchar))         as site_id,
    cast(created_date as date)             as created_date,
    cast(planned_date as date)             as planned_date,
    cast(failure_date as date)             as failure_date,
    nullif(trim(cast(failure_code as varchar)), '') as failure_code,
    cast(completion_date as date)          as completion_date,
    coalesce(cast(status as varchar), case when completion_date is null then 'open' else 'completed' end) as status
from {{ source('raw', 'erp_work_orders') }}
where work_order_id is not null
