{#- Staleness is measured against status_as_of when set (tests pin it), else the build time. -#}
{%- set as_of = "timestamptz '" ~ var('status_as_of') ~ "'" if var('status_as_of', none) else 'current_timestamp' -%}

with

devices as (

    select * from {{ ref('dim_devices') }}

),

position_days as (

    select * from {{ ref('int_position_days') }}

),

push_fixes as (

    select * from {{ ref('stg_jimi_push__gps_fixes') }}

),

heartbeats as (

    select * from {{ ref('stg_jimi_push__heartbeats') }}

),

sweeps as (

    select * from {{ ref('stg_jimi__live_locations') }}

),

fixes as (

    select
        imei,
        max(last_fix_at) as last_fix_at,
        max(last_track_fix_at) as last_track_fix_at,
        max(last_push_fix_at) as last_push_fix_at,
        max(last_sweep_fix_at) as last_sweep_fix_at

    from position_days
    group by imei

),

pushes as (

    select imei, max(received_at) as last_push_received_at
    from (
        select imei, received_at from push_fixes
        union all
        select imei, received_at from heartbeats
    )
    group by imei

),

contacts as (

    -- A heartbeat is contact without a fix: pushed ones, and the heartbeat time the sweep reports.
    select imei, max(heartbeat_at) as last_heartbeat_at
    from (
        select imei, heartbeat_at from heartbeats
        union all
        select imei, heartbeat_at from sweeps
    )
    group by imei

),

expiry as (

    select imei, bool_or(is_expired) as sweep_says_expired
    from (
        select imei, is_expired from sweeps
        qualify row_number() over (partition by imei order by fixed_at desc) = 1
    )
    group by imei

),

joined as (

    select
        devices.imei,
        devices.device_name,
        fixes.last_fix_at,
        fixes.last_track_fix_at,
        fixes.last_push_fix_at,
        fixes.last_sweep_fix_at,
        pushes.last_push_received_at,
        contacts.last_heartbeat_at,
        greatest(fixes.last_fix_at, contacts.last_heartbeat_at, pushes.last_push_received_at) as last_contact_at,
        devices.expires_at,
        coalesce(devices.expires_at < {{ as_of }}, false) or coalesce(expiry.sweep_says_expired, false)
            as is_expired,
        not coalesce(devices.is_enabled, true) as is_disabled

    from devices
    left join fixes using (imei)
    left join pushes using (imei)
    left join contacts using (imei)
    left join expiry using (imei)

),

final as (

    select
        imei,
        device_name,
        last_fix_at,
        last_track_fix_at,
        last_push_fix_at,
        last_sweep_fix_at,
        last_push_received_at,
        last_heartbeat_at,
        last_contact_at,
        {{ as_of }} as as_of_at,
        round(date_diff('second', last_fix_at, {{ as_of }}) / 60.0, 1) as minutes_since_fix,
        round(date_diff('second', last_push_received_at, {{ as_of }}) / 60.0, 1) as minutes_since_push,
        round(date_diff('second', last_heartbeat_at, {{ as_of }}) / 60.0, 1) as minutes_since_heartbeat,
        round(date_diff('second', last_contact_at, {{ as_of }}) / 60.0, 1) as minutes_stale,
        expires_at,
        is_expired,
        is_disabled,
        -- Silent: nothing at all (fix, heartbeat or push) for longer than the threshold, or never.
        coalesce(
            date_diff('second', last_contact_at, {{ as_of }}) > {{ var('device_silent_after_minutes') }} * 60,
            true
        ) as is_silent

    from joined

)

select * from final
