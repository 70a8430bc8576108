-- Daily date spine from the first to the last movement date (any movement type), inclusive.
-- Built with DuckDB's generate_series (inclusive upper bound); no dbt_utils.
with bounds as (
    select
        min(movement_date) as first_date,
        max(movement_date) as last_date
    from {{ ref('stg_erp__movements') }}
),

spine as (
    select cast(unnest(generate_series(
        cast(first_date as timestamp), cast(last_date as timestamp), interval 1 day
    )) as date) as date
    from bounds
    where first_date is not null
)

select
    date,
    cast(date_diff('day', (select min(date) from spine), date) as integer) as day_index
from spine
order by date
