{#- Fails for every row where `expression` (a SQL boolean over the model's columns) is false; null passes. -#}
{% test rows_satisfy(model, expression, column_name=none) %}
select * from {{ model }} where not coalesce(({{ expression }}), true)
{% endtest %}
