with

position_days as (

    select * from {{ ref('int_position_days') }}

),

event_parts as (

    select * from {{ ref('int_motion_events') }}

),

devices as (

    select * from {{ ref('dim_devices') }}

),

alarms as (

    select * from {{ ref('fct_alarms') }}

),

alarm_days as (

    select
        imei,
        alarm_date,
        count(*) as alarm_count,
        count(*) filter (where category = 'emergency') as emergency_alarm_count,
        count(*) filter (where category = 'driving_behaviour') as driving_behaviour_alarm_count,
        count(*) filter (where category = 'driver_monitoring') as driver_monitoring_alarm_count,
        count(*) filter (where category = 'security') as security_alarm_count,
        count(*) filter (where category = 'power') as power_alarm_count,
        count(*) filter (where category = 'geofence') as geofence_alarm_count,
        count(*) filter (
            where category in ('environment', 'fuel', 'maintenance', 'device_status', 'other')
        ) as other_alarm_count

    from alarms
    group by imei, alarm_date

),

event_days as (

    -- Trips and stops split at UTC midnight: each segment counts on the day of its later fix.
    select
        imei,
        part_date as activity_date,
        sum(case when event_type = 'trip' then part_distance_km else 0 end) as distance_km,
        sum(case when event_type = 'trip' then part_driving_s else 0 end) as driving_seconds,
        -- Standing with the engine on: halts inside trips, and idling stops.
        sum(
            case
                when event_type = 'trip' then part_idle_s
                when stop_kind = 'idling' then part_duration_s
                else 0
            end
        ) as idle_seconds,
        sum(case when event_type = 'stop' and stop_kind <> 'idling' then part_duration_s else 0 end)
            as parked_seconds,
        count(distinct case when event_type = 'trip' and cast(timezone('UTC', started_at) as date) = part_date
            then event_id end) as trip_count,
        count(distinct case when event_type = 'stop' and cast(timezone('UTC', started_at) as date) = part_date
            then event_id end) as stop_count,
        sum(part_duration_s) as known_seconds

    from event_parts
    group by imei, part_date

),

final as (

    select
        position_days.imei || '_' || strftime(position_days.fix_date, '%Y-%m-%d') as device_day_id,
        position_days.imei,
        devices.device_name,
        position_days.fix_date as activity_date,
        cast(round(coalesce(event_days.distance_km, 0), 3) as double) as distance_km,
        coalesce(event_days.driving_seconds, 0) as driving_seconds,
        coalesce(event_days.idle_seconds, 0) as idle_seconds,
        coalesce(event_days.parked_seconds, 0) as parked_seconds,
        coalesce(event_days.trip_count, 0) as trip_count,
        coalesce(event_days.stop_count, 0) as stop_count,
        position_days.max_speed_kmh,
        position_days.fix_count,
        position_days.gps_jump_count,
        position_days.first_fix_at,
        position_days.last_fix_at,
        -- The share of the day whose state is known: inside a derived trip or stop.
        round(least(coalesce(event_days.known_seconds, 0) / 86400.0, 1.0), 4) as data_coverage_share,
        coalesce(alarm_days.alarm_count, 0) as alarm_count,
        coalesce(alarm_days.emergency_alarm_count, 0) as emergency_alarm_count,
        coalesce(alarm_days.driving_behaviour_alarm_count, 0) as driving_behaviour_alarm_count,
        coalesce(alarm_days.driver_monitoring_alarm_count, 0) as driver_monitoring_alarm_count,
        coalesce(alarm_days.security_alarm_count, 0) as security_alarm_count,
        coalesce(alarm_days.power_alarm_count, 0) as power_alarm_count,
        coalesce(alarm_days.geofence_alarm_count, 0) as geofence_alarm_count,
        coalesce(alarm_days.other_alarm_count, 0) as other_alarm_count

    from position_days
    left join event_days
        on position_days.imei = event_days.imei
        and position_days.fix_date = event_days.activity_date
    left join devices on position_days.imei = devices.imei
    left join alarm_days
        on position_days.imei = alarm_days.imei
        and position_days.fix_date = alarm_days.alarm_date

)

select * from final
