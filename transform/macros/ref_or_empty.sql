{#-
    A seed (or model), or an empty relation with its columns and types when it has not been built in this
    warehouse yet — so `dbt run` (which loads no seeds) still builds the models that join a seed. The columns
    and types are the seed's `column_types` in its YAML, declared there only.
    ref() is always called, so the DAG and lineage stay the same; `dbt build` loads the seed first anyway.
-#}
{% macro ref_or_empty(name) -%}
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
        {%- set nodes = graph.nodes.values() | selectattr('name', 'equalto', name)
            | selectattr('resource_type', 'in', ['seed', 'model']) | list -%}
        {%- set columns = nodes[0].config.column_types if nodes | length == 1 else none -%}
        {%- if not columns -%}
            {{ exceptions.raise_compiler_error(name ~ " declares no column_types in its YAML: ref_or_empty needs them") }}
        {%- endif %}
        (
            select
            {%- for column_name, data_type in columns.items() %}
                cast(null as {{ data_type }}) as {{ column_name }}{{ "," if not loop.last }}
            {%- endfor %}
            where false
        )
    {%- endif -%}
{%- endmacro %}
