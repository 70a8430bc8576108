-- fct_item_daily_demand must have exactly one row per material of the master and spine day
-- (explicit zeros), which the ROWS-based windows of feat_item_daily rely on.
with expected as (
    select
        (select count(*) from {{ ref('stg_erp__materials') }})
        * (select count(*) from {{ ref('int_calendar_spine') }}) as n_rows
),

actual as (
    select count(*) as n_rows from {{ ref('fct_item_daily_demand') }}
),

feat as (
    select count(*) as n_rows from {{ ref('feat_item_daily') }}
)

select expected.n_rows as expected_rows, actual.n_rows as fct_rows, feat.n_rows as feat_rows
from expected, actual, feat
where expected.n_rows <> actual.n_rows or expected.n_rows <> feat.n_rows
