with

source as (

    select * from {{ source_or_empty('jimi_push', 'trip_reports') }}

),

renamed as (

    select
        imei,
        begin_time as started_at,
        end_time as ended_at,
        trip_phase,
        trip_seq,
        duration_s,
        distance_km,
        fuel_l,
        cast(idle_s as bigint) as idle_s,
        begin_lat as start_lat,
        begin_lng as start_lng,
        -- A "start" report has no end yet: its end position is sent as (0, 0).
        case when not (end_lat = 0 and end_lng = 0) then end_lat end as end_lat,
        case when not (end_lat = 0 and end_lng = 0) then end_lng end as end_lng,
        gate_time as gateway_at,
        received_at

    from source
    where imei is not null and begin_time is not null

),

deduplicated as (

    -- The device reports a trip twice: at its start and at its end. Keep one row per report
    -- (trip start + phase); the end report completes the start one downstream.
    select * from renamed
    qualify row_number() over (
        partition by imei, started_at, trip_phase order by received_at desc nulls last
    ) = 1

)

select * from deduplicated
