{{
    config(
        materialized='incremental',
        incremental_strategy='replace_tail',
        replace_tail_order='started_at',
        on_schema_change='fail'
    )
}}

{#-
    Trips and stops derived from the usable fixes (precise, not GPS jumps), in the spirit of Traccar:

    1. Each segment between consecutive usable fixes is `moving`, `still` or a `gap`:
       - longer than max_segment_gap_s: `still` when the vehicle reappears within stop_radius_m of where it
         was (a long data gap in place is a stop), else a `gap` (a break: no trip or stop spans it);
       - both ends report the ignition off: `still` (GPS drift while parked is never a trip);
       - reported speed at either end >= moving_speed_kmh, or displaced beyond stop_radius_m: `moving`
         (a short gap in motion - a tunnel - stays inside the trip);
       - otherwise `still`.
    2. A still run shorter than stop_min_duration_s, or spreading beyond stop_radius_m, is part of the drive
       (a traffic-light halt, a crawl in a queue).
    3. A moving run shorter than trip_min_distance_km and trip_min_duration_s is drift: part of the stop.
    4. Moving runs are trips; still runs of at least stop_min_duration_s are stops. Runs follow the fixes
       across midnight, so a trip over midnight stays one trip.

    Grain: one row per event (trip or stop) and UTC day it touches (a "part"); event-level columns repeat
    on each part. A segment crossing midnight is split there (time as it fell, distance pro rata).

    Incremental runs: for each device with re-derived positions (int_positions' batch_at newer than the
    last batch this table consumed), derivation restarts at the start of the device's last stop that ended
    before the first re-derived fix: nothing before that stop's start can change (its fixes and run are
    untouched, and runs only look at their own segments), and a stop start is where a fresh derivation over
    the later fixes starts too. replace_tail swaps the device's events from there on.
-#}

with

positions as (

    select * from {{ ref('int_positions') }}

),

{% if is_incremental() %}

consumed as (

    select max(positions_batch_at) as positions_batch_at from {{ this }}

),

changed_devices as (

    select imei, min(fixed_at) as changed_from
    from positions
    where batch_at > (select positions_batch_at from consumed)
    group by imei

),

restart_points as (

    select
        changed_devices.imei,
        max(existing.started_at) as restart_from

    from changed_devices
    left join {{ this }} as existing
        on existing.imei = changed_devices.imei
        and existing.event_type = 'stop'
        and existing.ended_at < changed_devices.changed_from
    group by changed_devices.imei

),

usable as (

    select positions.*
    from positions
    inner join restart_points
        on positions.imei = restart_points.imei
        and (restart_points.restart_from is null or positions.fixed_at >= restart_points.restart_from)
    where positions.is_precise and not positions.is_gps_jump

),

{% else %}

usable as (

    select * from positions
    where is_precise and not is_gps_jump

),

{% endif %}

segments as (

    select
        imei,
        lag(fixed_at) over by_device as started_at,
        fixed_at as ended_at,
        lag(lat) over by_device as start_lat,
        lag(lng) over by_device as start_lng,
        lat as end_lat,
        lng as end_lng,
        lag(speed_kmh) over by_device as start_speed_kmh,
        speed_kmh as end_speed_kmh,
        lag(is_ignition_on) over by_device as start_ignition_on,
        is_ignition_on as end_ignition_on

    from usable
    window by_device as (partition by imei order by fixed_at)

),

measured as (

    select
        *,
        date_diff('second', started_at, ended_at) as segment_s,
        -- Decimal, so sums are exact and the same in any order (a full refresh and an incremental run
        -- must agree to the last digit).
        cast({{ haversine_km('start_lat', 'start_lng', 'end_lat', 'end_lng') }} as decimal(18, 6)) as segment_km

    from segments
    where started_at is not null

),

classified as (

    select
        *,
        case
            when segment_s > {{ var('max_segment_gap_s') }}
                then case when segment_km * 1000 <= {{ var('stop_radius_m') }} then 'still' else 'gap' end
            when start_ignition_on = false and end_ignition_on = false then 'still'
            when greatest(coalesce(start_speed_kmh, 0), coalesce(end_speed_kmh, 0)) >= {{ var('moving_speed_kmh') }}
                then 'moving'
            when segment_km * 1000 > {{ var('stop_radius_m') }} then 'moving'
            else 'still'
        end as segment_state

    from measured

),

first_runs as (

    select
        *,
        sum(case when segment_state = previous_state then 0 else 1 end) over by_device as first_run

    from (
        select *, lag(segment_state) over (partition by imei order by ended_at) as previous_state
        from classified
    )
    window by_device as (partition by imei order by ended_at)

),

first_run_stats as (

    select
        *,
        sum(segment_s) over by_run as first_run_s,
        {{ haversine_km(
            'min(least(start_lat, end_lat)) over by_run', 'min(least(start_lng, end_lng)) over by_run',
            'max(greatest(start_lat, end_lat)) over by_run', 'max(greatest(start_lng, end_lng)) over by_run'
        ) }} * 1000 as first_run_extent_m

    from first_runs
    window by_run as (partition by imei, first_run)

),

halts_absorbed as (

    -- Step 2: short or spread-out still runs are part of the drive.
    select
        *,
        case
            when segment_state = 'still'
                and (first_run_s < {{ var('stop_min_duration_s') }} or first_run_extent_m > {{ var('stop_radius_m') }})
                then 'moving'
            else segment_state
        end as halt_state

    from first_run_stats

),

second_runs as (

    select
        *,
        sum(case when halt_state = previous_halt_state then 0 else 1 end) over by_device as second_run

    from (
        select *, lag(halt_state) over (partition by imei order by ended_at) as previous_halt_state
        from halts_absorbed
    )
    window by_device as (partition by imei order by ended_at)

),

second_run_stats as (

    select
        *,
        sum(segment_s) over by_run as second_run_s,
        sum(segment_km) over by_run as second_run_km

    from second_runs
    window by_run as (partition by imei, second_run)

),

drift_absorbed as (

    -- Step 3: a moving run too short in both distance and time is drift (or a shuffle) inside a stop.
    select
        *,
        case
            when halt_state = 'moving'
                and second_run_km < {{ var('trip_min_distance_km') }}
                and second_run_s < {{ var('trip_min_duration_s') }}
                then 'still'
            else halt_state
        end as motion_state

    from second_run_stats

),

final_runs as (

    select
        *,
        sum(case when motion_state = previous_motion_state then 0 else 1 end) over by_device as motion_run

    from (
        select *, lag(motion_state) over (partition by imei order by ended_at) as previous_motion_state
        from drift_absorbed
    )
    window by_device as (partition by imei order by ended_at)

),

run_bounds as (

    select
        *,
        min(started_at) over by_run as run_started_at,
        max(ended_at) over by_run as run_ended_at,
        sum(segment_s) over by_run as run_s,
        -- The device's newest run is still going on: a stop or trip that may yet grow.
        max(ended_at) over by_run = max(ended_at) over (partition by imei) as is_open

    from final_runs
    window by_run as (partition by imei, motion_run)

),

events as (

    select
        *,
        case
            when motion_state = 'moving' then 'trip'
            when motion_state = 'still' and run_s >= {{ var('stop_min_duration_s') }} then 'stop'
        end as event_type

    from run_bounds

),

event_segments as (

    select
        *,
        imei || '_' || case when event_type = 'trip' then 't' else 's' end || '_'
            || cast(epoch(run_started_at) as bigint) as event_id

    from events
    where event_type is not null

),

event_attributes as (

    select
        event_id,
        any_value(imei) as imei,
        any_value(event_type) as event_type,
        any_value(run_started_at) as started_at,
        any_value(run_ended_at) as ended_at,
        any_value(is_open) as is_open,
        arg_min(start_lat, ended_at) as start_lat,
        arg_min(start_lng, ended_at) as start_lng,
        arg_max(end_lat, ended_at) as end_lat,
        arg_max(end_lng, ended_at) as end_lng,
        -- A stop's place: the mean of its fixes (drift averages out); its first fix is the arrival.
        round(
            (cast(arg_min(start_lat, ended_at) as decimal(18, 9)) + sum(cast(end_lat as decimal(18, 9))))
            / (count(*) + 1),
            6
        ) as mean_lat,
        round(
            (cast(arg_min(start_lng, ended_at) as decimal(18, 9)) + sum(cast(end_lng as decimal(18, 9))))
            / (count(*) + 1),
            6
        ) as mean_lng,
        sum(segment_km) as distance_km,
        sum(case when segment_state = 'moving' then segment_s else 0 end) as driving_s,
        sum(case when segment_state = 'moving' then 0 else segment_s end) as idle_s,
        max(greatest(coalesce(start_speed_kmh, 0), coalesce(end_speed_kmh, 0))) as max_speed_kmh,
        count(*) + 1 as fix_count,
        bool_or(start_ignition_on = false or end_ignition_on = false) as has_ignition_off,
        bool_or(start_ignition_on is not null or end_ignition_on is not null) as has_ignition

    from event_segments
    group by event_id

),

segment_days as (

    -- A segment crossing midnight is split there: its seconds go to each day as they fell, its distance
    -- pro rata (a trip over midnight stays one trip, but each day gets its share).
    select
        event_id,
        segment_state,
        segment_s,
        segment_km,
        greatest(started_at, part_day) as piece_started_at,
        least(ended_at, part_day + interval 1 day) as piece_ended_at,
        cast(part_day as date) as part_date

    from (
        select
            *,
            unnest(generate_series(
                timezone('UTC', date_trunc('day', timezone('UTC', started_at))),
                timezone('UTC', date_trunc('day', timezone('UTC', ended_at - interval 1 second))),
                interval 1 day
            )) as part_day
        from event_segments
    )

),

event_parts as (

    select
        event_id,
        part_date,
        sum(
            case when segment_s > 0
                then cast(segment_km * date_diff('second', piece_started_at, piece_ended_at) / segment_s as decimal(18, 6))
                else segment_km
            end
        ) as part_distance_km,
        sum(date_diff('second', piece_started_at, piece_ended_at)) as part_duration_s,
        sum(case when segment_state = 'moving' then date_diff('second', piece_started_at, piece_ended_at) else 0 end)
            as part_driving_s,
        sum(case when segment_state = 'moving' then 0 else date_diff('second', piece_started_at, piece_ended_at) end)
            as part_idle_s,
        count(*) as part_segment_count

    from segment_days
    group by event_id, part_date

),

final as (

    select
        event_parts.event_id || '_' || strftime(event_parts.part_date, '%Y%m%d') as event_part_id,
        event_attributes.event_id,
        event_attributes.imei,
        event_attributes.event_type,
        event_attributes.started_at,
        event_attributes.ended_at,
        date_diff('second', event_attributes.started_at, event_attributes.ended_at) as duration_s,
        event_attributes.is_open,
        event_attributes.start_lat,
        event_attributes.start_lng,
        event_attributes.end_lat,
        event_attributes.end_lng,
        event_attributes.mean_lat,
        event_attributes.mean_lng,
        event_attributes.distance_km,
        event_attributes.driving_s,
        event_attributes.idle_s,
        event_attributes.max_speed_kmh,
        event_attributes.fix_count,
        case
            when event_attributes.event_type = 'trip' then null
            when event_attributes.has_ignition_off then 'parking'
            when event_attributes.has_ignition then 'idling'
            else 'unknown'
        end as stop_kind,
        event_parts.part_date,
        event_parts.part_distance_km,
        event_parts.part_duration_s,
        event_parts.part_driving_s,
        event_parts.part_idle_s,
        event_parts.part_segment_count,
        (select max(batch_at) from positions) as positions_batch_at

    from event_parts
    inner join event_attributes using (event_id)

)

select * from final
