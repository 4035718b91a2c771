{#-
    `(select <columns> from source(source_name, table_name))`, or, while that raw table does not exist yet (dlt
    creates a table only once something lands in it, e.g. the first DTC), the same columns as typed nulls
    `where false`: staging then yields an empty, correctly typed relation instead of failing.
    The columns and their types are the table's in the source's YAML (`_sources.yml`: name and data_type), the
    one place staging column types are declared; every column is cast to its type. A declared column the table
    lacks (added later to the loader) reads as null, so older warehouses keep building. The result is
    parenthesised so it serves both as a CTE body and after `from`; source() is always called, so lineage and
    freshness stay.
-#}
{% macro source_or_empty(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
    (select * from {{ relation }})
    {%- else -%}
        {%- set columns = declared_source_columns(source_name, table_name) -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    (
        {%- if existing is not none -%}
            {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list %}
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
    {%- endif -%}
{%- endmacro %}


{#- The columns a source table declares in YAML, name -> data_type, in their order; an error names the table or
    the column when a declaration is missing. -#}
{% macro declared_source_columns(source_name, table_name) -%}
    {%- set nodes = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | list -%}
    {%- if nodes | length != 1 or not nodes[0].columns -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_name ~ "." ~ table_name ~ " declares no columns: list them with their data_type in its _sources.yml") }}
    {%- endif -%}
    {%- set columns = {} -%}
    {%- for column in nodes[0].columns.values() -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error(
                "source " ~ source_name ~ "." ~ table_name ~ " column " ~ column.name ~ " has no data_type in its _sources.yml") }}
        {%- endif -%}
        {%- do columns.update({column.name: column.data_type}) -%}
    {%- endfor -%}
    {{- return(columns) -}}
{%- endmacro %}
