{#- The incremental scope shared by fct_trips and fct_stops: per device, the earliest bound in `bounds`
    (imei, redo_from), moved back to the latest derived row that starts at or before it, so the batch begins
    with a row that exists now and replace_tail also removes rows that have vanished since. A device the
    table has never seen, or with no derived row before its bound, is redone in full. Emits the CTEs
    candidate_bounds, redo_from and derived_in_scope (from `derived`, over the devices in `all_devices`). -#}
{% macro redo_scope_ctes() %}

candidate_bounds as (

    select
        all_devices.imei,
        min(bounds.redo_from) as redo_before

    from all_devices
    left join bounds using (imei)
    group by all_devices.imei

),

redo_from as (

    select
        candidate_bounds.imei,
        coalesce(max(derived.started_at), timestamptz '-infinity') as redo_from

    from candidate_bounds
    left join derived
        on derived.imei = candidate_bounds.imei
        and derived.started_at <= candidate_bounds.redo_before
    group by candidate_bounds.imei

),

derived_in_scope as (

    select derived.*
    from derived
    inner join redo_from using (imei)
    where derived.started_at >= redo_from.redo_from

),

{% endmacro %}
