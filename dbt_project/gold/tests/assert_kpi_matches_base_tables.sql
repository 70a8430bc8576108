-- The KPI row's inventory value and alert counts agree with the base tables they summarise.
with base as (
    select
        a.cycle_date,
        count(*) filter (where a.severity = 'CRÍTICO') as critical
    from {{ source('analytics', 'alerts') }} as a
    group by a.cycle_date
)

select k.cycle_date
from {{ ref('kpi_daily') }} as k
inner join base as b using (cycle_date)
where k.alerts_critical <> b.critical
