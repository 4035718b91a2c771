{#-
    `(select <columns> from source(source_name, table_name))`, or, while that raw table does not exist yet (dlt
    creates a table only once something lands in it, e.g. the first DTC), the same columns as typed nulls
    `where false`: staging then yields an empty, correctly typed relation instead of failing.
    `columns` maps column name -> SQL type; every column is cast to its type. A column the table lacks (added
    later to the loader) reads as null, so older warehouses keep building. The result is parenthesised so it
    serves both as a CTE body and after `from`; source() is always called, so lineage and freshness stay.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    (
    {%- if existing is not none -%}
        {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    select
        {%- for column, data_type in columns.items() %}
        cast({{ column if column | lower in present else 'null' }} as {{ data_type }}) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else %}
    select
        {%- for column, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
    )
{%- endmacro %}
