-- Maintenance proxy on the daily spine. The raw data has NO preventive-maintenance calendar,
-- so maintenance is inferred from the issues: a field crew servicing a tower pulls many
-- DIFFERENT parts at once, while a single failure pulls one or two. A tower has an
-- "issue burst" on a day when the number of distinct materials issued there
--   * exceeds mean + `maintenance_burst_z` x std of the same weekday over the previous
--     `maintenance_baseline_weeks` weeks (a full baseline is required), and
--   * is at least `maintenance_min_materials`.
-- maintenance_flag(d) = 1 when at least one tower had a burst on d-1 (strictly past: the
-- issues of day d never enter the flag of day d). Warehouses are not counted.
{%- set weeks = var('maintenance_baseline_weeks') | int %}
with spine as (
    select date from {{ ref('int_calendar_spine') }}
),

towers as (
    select site_id from {{ ref('stg_erp__sites') }} where site_type = 'tower'
),

issues as (
    select site_id, movement_date as date, count(distinct material_id) as materials_issued
    from {{ ref('stg_erp__movements') }}
    where movement_type = 'issue'
    group by site_id, movement_date
),

tower_days as (
    select
        towers.site_id,
        spine.date,
        coalesce(issues.materials_issued, 0) as materials_issued
    from towers
    cross join spine
    left join issues on issues.site_id = towers.site_id and issues.date = spine.date
),

baseline as (
    select
        *,
        count(materials_issued) over w_same_weekday       as baseline_weeks,
        avg(materials_issued) over w_same_weekday         as baseline_mean,
        stddev_samp(materials_issued) over w_same_weekday as baseline_std
    from tower_days
    window w_same_weekday as (
        partition by site_id, isodow(date) order by date
        rows between {{ weeks }} preceding and 1 preceding
    )
),

bursts as (
    select
        date,
        cast(count(case
            when baseline_weeks = {{ weeks }}
             and materials_issued >= {{ var('maintenance_min_materials') }}
             and materials_issued > baseline_mean + {{ var('maintenance_burst_z') }} * baseline_std
            then 1 end) as integer) as towers_with_issue_burst
    from baseline
    group by date
)

select
    spine.date,
    coalesce(bursts.towers_with_issue_burst, 0) as towers_with_issue_burst,
    cast(coalesce(lag(bursts.towers_with_issue_burst) over (order by spine.date), 0) as integer)
        as towers_in_maintenance,
    cast(coalesce(lag(bursts.towers_with_issue_burst) over (order by spine.date), 0) > 0 as integer)
        as maintenance_flag
from spine
left join bursts on bursts.date = spine.date
order by spine.date
