with

event_parts as (

    select * from {{ ref('int_motion_events') }}

),

trips as (

    select
        event_id as trip_id,
        imei,
        started_at,
        ended_at,
        duration_s,
        driving_s,
        idle_s,
        distance_km,
        max_speed_kmh,
        start_lat,
        start_lng,
        end_lat,
        end_lng,
        fix_count,
        is_open

    from event_parts
    where event_type = 'trip'
    -- Event-level columns repeat on every day part; one part carries them.
    qualify row_number() over (partition by event_id order by part_date) = 1

)

select * from trips
