{{ config(indexes=[{'columns': ['cycle_date', 'exposure_rank']}]) }}
-- Stock-out risk of critical materials at towers with SLA penalties, in R$.
-- exposure = P(stock-out before resupply) x penalty per day x expected days without the part,
-- where the days without it are the resupply time not covered by the stock (at least one day).
-- A material is critical when its class is A or it is on a CRÍTICO/ALTO alert in the cycle.
with risk as (
    select
        si.cycle_date,
        si.site_id,
        s.site_name,
        s.region_code,
        s.state,
        si.material_id,
        m.description,
        m.criticality,
        a.severity,
        si.on_hand,
        si.mean_daily_demand,
        si.days_of_cover,
        si.resupply_days,
        si.stockout_probability,
        s.sla_penalty_brl_day,
        greatest(si.resupply_days - coalesce(si.days_of_cover, si.resupply_days), 1.0) as expected_outage_days
    from {{ source('analytics', 'site_inventory') }} as si
    inner join {{ source('core', 'sites') }} as s using (site_id)
    inner join {{ source('core', 'materials') }} as m using (material_id)
    left join {{ source('analytics', 'alerts') }} as a using (cycle_date, material_id)
    where s.site_type = 'tower'
      and s.sla_penalty_brl_day > 0
      and (m.criticality = 'A' or a.severity in ('CRÍTICO', 'ALTO'))
)

select
    *,
    stockout_probability * sla_penalty_brl_day * expected_outage_days as exposure_brl,
    row_number() over (
        partition by cycle_date
        order by stockout_probability * sla_penalty_brl_day * expected_outage_days desc, site_id, material_id
    ) as exposure_rank
from risk
