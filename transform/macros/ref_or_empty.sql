{#-
    A model or seed, or an empty relation with the given columns and types when it has not been built in this
    warehouse yet — so `dbt run` (which loads no seeds) still builds the models that join a seed.
    ref() is always called, so the DAG and lineage stay the same; `dbt build` loads the seed first anyway.
-#}
{% macro ref_or_empty(name, columns) -%}
    {%- set relation = ref(name) -%}
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
            {%- for column_name, data_type in columns.items() %}
                cast(null as {{ data_type }}) as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}
