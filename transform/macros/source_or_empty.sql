{#-
    A source table, or an empty relation with the given columns and types when the table does not exist
    yet (a push family nobody has sent, a resource never polled), so staging builds on any warehouse.

    columns: a mapping of column name -> DuckDB type, in the order the empty relation should have them;
    name every column the model reads. Usage:
        select * from {{ source_or_empty('jimi_push', 'trip_reports', {'imei': 'varchar', 'begin_time': 'timestamptz'}) }}
    source() is always called, so lineage, freshness and the Dagster asset graph stay the same.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
    {%- else -%}
        {%- set existing = relation -%}
    {%- endif -%}
    {%- if existing is not none -%}
        {{ relation }}
    {%- else -%}
        (
            select
            {%- for name, data_type in columns.items() %}
                cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}
