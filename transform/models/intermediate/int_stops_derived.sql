with

event_parts as (

    select * from {{ ref('int_motion_events') }}

),

stops as (

    select
        event_id as stop_id,
        imei,
        started_at,
        ended_at,
        duration_s,
        stop_kind,
        mean_lat as lat,
        mean_lng as lng,
        fix_count,
        is_open

    from event_parts
    where event_type = 'stop'
    qualify row_number() over (partition by event_id order by part_date) = 1

)

select * from stops
