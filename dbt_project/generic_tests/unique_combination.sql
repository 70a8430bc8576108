{#-
  Generic test: the combination of the given columns is unique in the model
  (rows where any of the columns is null are ignored, like dbt's `unique`).
  Usage (model level):
    data_tests:
      - unique_combination:
          arguments:
            combination_of_columns: [material_id, date]
-#}
{% test unique_combination(model, combination_of_columns) %}
{%- if combination_of_columns is string -%}
  {%- set combination_of_columns = [combination_of_columns] -%}
{%- endif -%}
select
  {{ combination_of_columns | join(', ') }},
  count(*) as n_records
from {{ model }}
where
  {%- for col in combination_of_columns %}
  {{ col }} is not null{{ ' and' if not loop.last }}
  {%- endfor %}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
