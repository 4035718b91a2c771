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

trips as (

    -- Every trip of fct_trips - derived, and report-only ones the fixes do not reject - so the days add
    -- up to fct_trips exactly.
    select * from {{ ref('fct_trips') }}

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

report_trip_day_spans as (

    -- A report trip over midnight is shared between its days pro rata to its time on each (the report
    -- does not say when within the trip it drove): share_from and share_to are the parts of the trip
    -- elapsed at the start and end of its piece of the day.
    select
        *,
        case when duration_s > 0 then date_diff('second', started_at, piece_started_at) / duration_s else 0 end
            as share_from,
        case when duration_s > 0 then date_diff('second', started_at, piece_ended_at) / duration_s else 1 end
            as share_to

    from (
        select
            imei,
            started_at,
            duration_s,
            distance_km,
            driving_s,
            idle_s,
            cast(piece_day as date) as activity_date,
            greatest(started_at, piece_day) as piece_started_at,
            least(ended_at, piece_day + interval 1 day) as piece_ended_at

        from (
            select
                *,
                unnest(generate_series(
                    timezone('UTC', date_trunc('day', timezone('UTC', started_at))),
                    timezone('UTC', date_trunc('day', timezone('UTC', greatest(ended_at - interval 1 second, started_at)))),
                    interval 1 day
                )) as piece_day
            from trips
            where source <> 'derived'
        )
    )

),

report_trip_pieces as (

    -- Differences of rounded cumulative shares: a trip's pieces add up to the trip exactly.
    select
        imei,
        started_at,
        activity_date,
        piece_started_at,
        piece_ended_at,
        cast(round(distance_km * share_to, 3) as decimal(18, 3))
            - cast(round(distance_km * share_from, 3) as decimal(18, 3)) as distance_km,
        cast(round(driving_s * share_to) as bigint) - cast(round(driving_s * share_from) as bigint) as driving_s,
        cast(round(idle_s * share_to) as bigint) - cast(round(idle_s * share_from) as bigint) as idle_s

    from report_trip_day_spans

),

derived_trip_day_spans as (

    -- A derived trip over midnight is split as its segments fell (int_motion_events' day parts): the
    -- shares are the parts of its distance driven by the end of the previous day and of this one.
    select
        trips.imei,
        trips.trip_id,
        trips.started_at,
        trips.distance_km,
        parts.part_date as activity_date,
        parts.part_driving_s as driving_s,
        parts.part_idle_s as idle_s,
        sum(parts.part_distance_km) over trip_so_far - parts.part_distance_km as km_before,
        sum(parts.part_distance_km) over trip_so_far as km_through,
        sum(parts.part_distance_km) over (partition by trips.trip_id) as km_total,
        parts.part_date = max(parts.part_date) over (partition by trips.trip_id) as is_last_piece

    from trips
    inner join event_parts as parts
        on parts.event_id = trips.trip_id
        and parts.event_type = 'trip'
    where trips.source = 'derived'
    window trip_so_far as (partition by trips.trip_id order by parts.part_date rows unbounded preceding)

),

derived_trip_pieces as (

    -- The trip's rounded distance times the rounded cumulative shares, differenced: its pieces add up to
    -- fct_trips' distance_km exactly (the last piece's share is 1 by definition, not by float division).
    select
        imei,
        started_at,
        activity_date,
        cast(round(distance_km * case
            when is_last_piece then 1.0 when km_total > 0 then km_through / km_total else 0.0 end, 3) as decimal(18, 3))
            - cast(round(distance_km * case
                when km_total > 0 then km_before / km_total else 0.0 end, 3) as decimal(18, 3)) as distance_km,
        driving_s,
        idle_s

    from derived_trip_day_spans

),

trip_pieces as (

    select imei, started_at, activity_date, distance_km, driving_s, idle_s from derived_trip_pieces
    union all
    select imei, started_at, activity_date, distance_km, driving_s, idle_s from report_trip_pieces

),

trip_days as (

    select
        imei,
        activity_date,
        sum(distance_km) as distance_km,
        sum(driving_s) as driving_seconds,
        sum(idle_s) as idle_seconds,
        count(*) filter (where cast(timezone('UTC', started_at) as date) = activity_date) as trip_count

    from trip_pieces
    group by imei, activity_date

),

stop_pieces as (

    select
        imei,
        part_date,
        stop_kind,
        greatest(started_at, timezone('UTC', cast(part_date as timestamp))) as piece_started_at,
        least(ended_at, timezone('UTC', cast(part_date as timestamp)) + interval 1 day) as piece_ended_at

    from event_parts
    where event_type = 'stop'

),

report_stop_overlaps as (

    -- A report-only trip within a derived stop (a long gap in one place counts as a stop): the report says
    -- the vehicle was driving then, so that time is not standing.
    select
        stop_pieces.imei,
        stop_pieces.part_date as activity_date,
        stop_pieces.stop_kind,
        date_diff(
            'second',
            greatest(stop_pieces.piece_started_at, report_trip_pieces.piece_started_at),
            least(stop_pieces.piece_ended_at, report_trip_pieces.piece_ended_at)
        ) as overlap_s

    from stop_pieces
    inner join report_trip_pieces
        on {{ overlaps('report_trip_pieces', 'stop_pieces', 'piece_started_at', 'piece_ended_at') }}
        and report_trip_pieces.activity_date = stop_pieces.part_date

),

report_stop_overlap_days as (

    select
        imei,
        activity_date,
        sum(overlap_s) filter (where stop_kind = 'idling') as idling_overlap_s,
        sum(overlap_s) filter (where stop_kind <> 'idling') as parked_overlap_s

    from report_stop_overlaps
    group by imei, activity_date

),

event_days as (

    -- Stops split at UTC midnight (trips are counted from fct_trips, in trip_days), and the day's time
    -- inside any derived trip or stop.
    select
        imei,
        part_date as activity_date,
        sum(case when event_type = 'stop' and stop_kind = 'idling' then part_duration_s else 0 end)
            as idling_seconds,
        sum(case when event_type = 'stop' and stop_kind <> 'idling' then part_duration_s else 0 end)
            as parked_seconds,
        count(distinct case when event_type = 'stop' and cast(timezone('UTC', started_at) as date) = part_date
            then event_id end) as stop_count,
        sum(part_duration_s) as known_seconds

    from event_parts
    group by imei, part_date

),

device_days as (

    -- Days with a fix, and days a report-only trip touches although no fix of them was loaded.
    select imei, fix_date as activity_date from position_days
    union
    select imei, activity_date from trip_days

),

final as (

    select
        device_days.imei || '_' || strftime(device_days.activity_date, '%Y-%m-%d') as device_day_id,
        device_days.imei,
        devices.device_name,
        device_days.activity_date,
        cast(coalesce(trip_days.distance_km, 0) as double) as distance_km,
        coalesce(trip_days.driving_seconds, 0) as driving_seconds,
        -- Standing with the engine on: halts inside trips, and idling stops.
        coalesce(trip_days.idle_seconds, 0) + coalesce(event_days.idling_seconds, 0)
            - coalesce(report_stop_overlap_days.idling_overlap_s, 0) as idle_seconds,
        coalesce(event_days.parked_seconds, 0) - coalesce(report_stop_overlap_days.parked_overlap_s, 0)
            as parked_seconds,
        coalesce(trip_days.trip_count, 0) as trip_count,
        coalesce(event_days.stop_count, 0) as stop_count,
        position_days.max_speed_kmh,
        coalesce(position_days.fix_count, 0) as fix_count,
        coalesce(position_days.gps_jump_count, 0) as gps_jump_count,
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

    from device_days
    left join position_days
        on device_days.imei = position_days.imei
        and device_days.activity_date = position_days.fix_date
    left join event_days
        on device_days.imei = event_days.imei
        and device_days.activity_date = event_days.activity_date
    left join trip_days
        on device_days.imei = trip_days.imei
        and device_days.activity_date = trip_days.activity_date
    left join report_stop_overlap_days
        on device_days.imei = report_stop_overlap_days.imei
        and device_days.activity_date = report_stop_overlap_days.activity_date
    left join devices on device_days.imei = devices.imei
    left join alarm_days
        on device_days.imei = alarm_days.imei
        and device_days.activity_date = alarm_days.alarm_date

)

select * from final
