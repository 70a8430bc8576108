-- The regional view lists all 27 federative units in every cycle.
select cycle_date, count(*) as states
from {{ ref('regional_view') }}
where level = 'state'
group by cycle_date
having count(*) <> 27
