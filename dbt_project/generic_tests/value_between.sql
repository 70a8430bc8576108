{#-
  Generic test: every non-null value of the column lies in [min_value, max_value]
  (or in the open interval when inclusive=false). Either bound may be omitted.
  Usage (column level):
    data_tests:
      - value_between:
          arguments: {min_value: 0, max_value: 100}
-#}
{% test value_between(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
  {{ exceptions.raise_compiler_error("value_between needs min_value and/or max_value") }}
{%- endif -%}
select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {%- if min_value is not none %}
    or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}
  )
{% endtest %}
