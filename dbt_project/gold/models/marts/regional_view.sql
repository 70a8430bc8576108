{{ config(indexes=[{'columns': ['cycle_date', 'level']}]) }}
-- Demand, stock, alerts and SLA exposure by region of Bahia and by state, per cycle. Every state
-- and every region appears (with zeros where there is no site). The next-30-day forecast of a
-- material is split between its sites by their share of its last-90-day issues.
{% set ensemble = var("ensemble_model") %}
with cycles as (
    select distinct cycle_date from {{ source('analytics', 'site_inventory') }}
),

forecast_30d as (
    select cycle_date, material_id, sum(forecast) as forecast_30d
    from {{ source('analytics', 'forecasts') }}
    where model = '{{ ensemble }}' and forecast_date <= cycle_date + 30
    group by cycle_date, material_id
),

site_material as (
    select
        si.cycle_date,
        si.site_id,
        si.material_id,
        si.issued_30d,
        si.on_hand,
        si.on_hand * m.unit_cost as stock_value_brl,
        coalesce(f.forecast_30d, 0) * coalesce(
            si.issued_90d / nullif(sum(si.issued_90d) over (partition by si.cycle_date, si.material_id), 0), 0
        ) as forecast_30d,
        a.severity in ('CRÍTICO', 'ALTO') as on_alert
    from {{ source('analytics', 'site_inventory') }} as si
    inner join {{ source('core', 'materials') }} as m using (material_id)
    left join forecast_30d as f using (cycle_date, material_id)
    left join {{ source('analytics', 'alerts') }} as a using (cycle_date, material_id)
),

exposure as (
    select cycle_date, site_id, sum(exposure_brl) as exposure_brl
    from {{ ref('sla_exposure') }}
    group by cycle_date, site_id
),

site_facts as (
    select
        sm.cycle_date,
        s.region_code,
        s.state,
        s.site_id,
        s.site_type,
        sm.material_id,
        sm.issued_30d,
        sm.forecast_30d,
        sm.on_hand,
        sm.stock_value_brl,
        sm.on_alert
    from site_material as sm
    inner join {{ source('core', 'sites') }} as s using (site_id)
),

by_area as (
    {% for level, column in [('region', 'region_code'), ('state', 'state')] %}
    select
        f.cycle_date,
        '{{ level }}' as level,
        f.{{ column }} as region_code,
        count(distinct f.site_id) as sites,
        count(distinct f.site_id) filter (where f.site_type = 'tower') as towers,
        sum(f.issued_30d) as demand_last_30d,
        sum(f.forecast_30d) as forecast_next_30d,
        sum(f.on_hand) as stock_units,
        sum(f.stock_value_brl) as stock_value_brl,
        count(distinct f.material_id) filter (where f.on_alert) as materials_on_alert
    from site_facts as f
    group by f.cycle_date, f.{{ column }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

exposure_by_area as (
    {% for level, column in [('region', 'region_code'), ('state', 'state')] %}
    select e.cycle_date, '{{ level }}' as level, s.{{ column }} as region_code, sum(e.exposure_brl) as exposure_brl
    from exposure as e
    inner join {{ source('core', 'sites') }} as s using (site_id)
    group by e.cycle_date, s.{{ column }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    c.cycle_date,
    r.level,
    r.region_code,
    r.name as region_name,
    r.state_code,
    r.source as region_source,
    coalesce(a.sites, 0) as sites,
    coalesce(a.towers, 0) as towers,
    coalesce(a.demand_last_30d, 0) as demand_last_30d,
    coalesce(a.forecast_next_30d, 0) as forecast_next_30d,
    coalesce(a.stock_units, 0) as stock_units,
    coalesce(a.stock_value_brl, 0) as stock_value_brl,
    coalesce(a.materials_on_alert, 0) as materials_on_alert,
    coalesce(e.exposure_brl, 0) as sla_exposure_brl
from cycles as c
cross join {{ source('core', 'regions') }} as r
left join by_area as a
    on a.cycle_date = c.cycle_date and a.level = r.level and a.region_code = r.region_code
left join exposure_by_area as e
    on e.cycle_date = c.cycle_date and e.level = r.level and e.region_code = r.region_code
where r.level = 'state' or r.state_code = 'BA' or a.region_code is not null
