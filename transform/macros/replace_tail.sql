{#-
    Incremental strategy "replace_tail": for every device (partition) in the new batch, delete the target's
    rows from the batch's earliest time onward, then insert the batch. A model using it re-derives
    everything of a device from some point in time on (where late data landed), so the rows it replaces are
    exactly the device's tail: rows that no longer exist after re-derivation (a trip split in two) go too,
    which a delete+insert on a row key would leave behind.

    Config: replace_tail_partition (default 'imei'), replace_tail_order (the time column, e.g. 'fixed_at').
-#}
{% macro get_incremental_replace_tail_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set partition = config.get('replace_tail_partition', 'imei') -%}
    {%- set order = config.get('replace_tail_order') -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ target }} as existing
    using (
        select {{ partition }}, min({{ order }}) as replace_from
        from {{ batch }}
        group by {{ partition }}
    ) as tails
    where existing.{{ partition }} = tails.{{ partition }}
        and existing.{{ order }} >= tails.replace_from;

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }};
{% endmacro %}
