{#-
    Drops the tables that models built in `from_schema` before they moved to `to_schema`: dbt never drops a
    relation it no longer builds, and the publisher copies every table of the mart schema, so a warehouse
    built before the ingestion-health models got their own schema would keep publishing stale copies of them
    as marts. Run on-run-start; a no-op once they are gone.
-#}
{% macro drop_moved_models(from_schema, to_schema) %}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.schema == to_schema and to_schema != from_schema -%}
            {%- set old = adapter.get_relation(database=node.database, schema=from_schema, identifier=node.alias) -%}
            {%- if old is not none -%}
                {% do log('dropping ' ~ old ~ ': ' ~ node.name ~ ' is built in ' ~ to_schema ~ ' now', info=true) %}
                {% do adapter.drop_relation(old) %}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
