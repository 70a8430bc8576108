{#-
  Generic test: every row of the model satisfies a SQL boolean expression (rows where it is
  false are returned; NULL counts as satisfied, like a CHECK constraint). Model level:
    data_tests:
      - expression_is_true:
          arguments:
            expression: "selic_published_date <= date"
-#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
