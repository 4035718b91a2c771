{#-
    `source_or_empty(source_name, table_name, columns)`: the listed columns of a raw table, or no rows of
    the same columns when the table does not exist yet (dlt creates a table only once it has rows: a fleet
    without a dashcam never gets media tables). `columns` maps each column name to its SQL type; both
    branches cast to those types, so the model's schema does not depend on which branch ran.
-#}
{% macro source_or_empty(source_name, table_name, columns) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
    {%- endif -%}
    {%- if existing is not none %}
    select
        {%- for name, type in columns.items() %}
        cast({{ adapter.quote(name) }} as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else %}
    select
        {%- for name, type in columns.items() %}
        cast(null as {{ type }}) as {{ adapter.quote(name) }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{% endmacro %}
