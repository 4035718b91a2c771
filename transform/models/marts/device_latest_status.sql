{#- Staleness is measured against status_as_of when set (tests pin it), else the build time. -#}
{%- set as_of = "timestamptz '" ~ var('status_as_of') ~ "'" if var('status_as_of', none) else 'current_timestamp' -%}

with

devices as (

    select * from {{ ref('dim_devices') }}

),

positions as (

    select * from {{ ref('int_positions') }}

),

position_days as (

    select * from {{ ref('int_position_days') }}

),

event_parts as (

    select * from {{ ref('int_motion_events') }}

),

sweeps as (

    select * from {{ ref('stg_jimi__live_locations') }}

),

heartbeats as (

    select * from {{ ref('stg_jimi_push__heartbeats') }}

),

last_fix_days as (

    select imei, max(fix_date) as fix_date
    from position_days
    where usable_fix_count > 0
    group by imei

),

last_fixes as (

    -- The newest usable fix (precise, not a jump) of each device.
    select positions.*
    from positions
    inner join last_fix_days using (imei, fix_date)
    where positions.is_precise and not positions.is_gps_jump
    qualify row_number() over (partition by positions.imei order by positions.fixed_at desc) = 1

),

open_events as (

    -- The newest open event of each device. (Not `where is_open qualify row_number() ...`: DuckDB 1.5.5
    -- fails to bind that once two of its columns are used below, "Failed to bind column reference is_open".)
    select imei, arg_max(event_type, started_at) as event_type, max(started_at) as started_at
    from event_parts
    where is_open
    group by imei

),

last_sweeps as (

    select * from sweeps
    qualify row_number() over (partition by imei order by fixed_at desc, heartbeat_at desc nulls last) = 1

),

last_heartbeats as (

    select * from heartbeats
    qualify row_number() over (partition by imei order by heartbeat_at desc) = 1

),

final as (

    select
        devices.imei,
        devices.device_name,
        last_fixes.fixed_at as last_fixed_at,
        last_fixes.source as last_fix_source,
        last_fixes.lat,
        last_fixes.lng,
        last_fixes.speed_kmh,
        last_fixes.direction_deg,
        last_fixes.is_ignition_on,
        case
            when open_events.event_type = 'trip' then 'moving'
            when open_events.event_type = 'stop' then 'stopped'
            else 'unknown'
        end as motion_state,
        open_events.started_at as motion_state_since_at,
        -- Battery: whichever of the sweep and the heartbeat push is newer.
        case
            when last_heartbeats.heartbeat_at >= coalesce(last_sweeps.heartbeat_at, last_sweeps.fixed_at)
                or last_sweeps.imei is null
                then last_heartbeats.battery_pct
            else last_sweeps.battery_pct
        end as battery_pct,
        last_sweeps.external_power_v,
        last_sweeps.battery_voltage_v,
        last_heartbeats.voltage_v as heartbeat_voltage_v,
        last_heartbeats.is_charging,
        last_sweeps.gsm_signal_level,
        last_heartbeats.gsm_signal_pct,
        last_sweeps.is_online,
        last_sweeps.odometer_km,
        last_heartbeats.heartbeat_at as last_heartbeat_at,
        greatest(last_fixes.fixed_at, last_heartbeats.heartbeat_at, last_sweeps.heartbeat_at) as last_contact_at,
        {{ as_of }} as as_of_at,
        round(date_diff('second', last_fixes.fixed_at, {{ as_of }}) / 60.0, 1) as minutes_since_fix,
        round(
            date_diff(
                'second',
                greatest(last_fixes.fixed_at, last_heartbeats.heartbeat_at, last_sweeps.heartbeat_at),
                {{ as_of }}
            ) / 60.0,
            1
        ) as minutes_since_contact

    from devices
    left join last_fixes using (imei)
    left join open_events using (imei)
    left join last_sweeps using (imei)
    left join last_heartbeats using (imei)

)

select * from final
