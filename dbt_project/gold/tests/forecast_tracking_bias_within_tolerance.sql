-- Watched cycle by cycle: a cycle the latest run completed whose realised aggregate bias is beyond
-- tracking_bias_tolerance. A warning in the Dagster UI (and support.data_quality_results), not a
-- failed cycle; each cycle is judged once, by the run that completes it.
{{ config(severity='warn') }}

select cycle_date, bias
from {{ ref('forecast_tracking') }}
where complete
    and measured_through = (select max(measured_through) from {{ ref('forecast_tracking') }})
    and abs(bias) > {{ var('tracking_bias_tolerance') }}
