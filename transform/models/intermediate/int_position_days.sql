{{
    config(
        materialized='incremental',
        incremental_strategy='replace_tail',
        replace_tail_order='fix_date',
        on_schema_change='fail'
    )
}}

{#- Per device and UTC day, the fix statistics fct_device_days needs, so it never rescans every fix.
    Incremental runs redo a device's days from the first day int_positions re-derived for it. -#}

with

positions as (

    select * from {{ ref('int_positions') }}

),

{% if is_incremental() %}

changed_days as (

    select imei, min(fix_date) as changed_from
    from positions
    where batch_at > (select max(positions_batch_at) from {{ this }})
    group by imei

),

candidates as (

    select positions.*
    from positions
    inner join changed_days
        on positions.imei = changed_days.imei
        and positions.fix_date >= changed_days.changed_from

),

{% else %}

candidates as (

    select * from positions

),

{% endif %}

daily as (

    select
        imei,
        fix_date,
        count(*) as fix_count,
        count(*) filter (where is_precise and not is_gps_jump) as usable_fix_count,
        count(*) filter (where is_gps_jump) as gps_jump_count,
        min(fixed_at) as first_fix_at,
        max(fixed_at) as last_fix_at,
        max(speed_kmh) filter (where is_precise and not is_gps_jump) as max_speed_kmh,
        max(fixed_at) filter (where list_contains(seen_in, 'track_list')) as last_track_fix_at,
        max(fixed_at) filter (where list_contains(seen_in, 'push_gps')) as last_push_fix_at,
        max(fixed_at) filter (where list_contains(seen_in, 'sweep')) as last_sweep_fix_at

    from candidates
    group by imei, fix_date

),

final as (

    select
        *,
        (select max(batch_at) from positions) as positions_batch_at

    from daily

)

select * from final
