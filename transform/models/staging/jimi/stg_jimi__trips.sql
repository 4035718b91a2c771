with

source as (

    select * from {{ source_or_empty('jimi', 'trips') }}

),

renamed as (

    select
        imei,
        start_time as started_at,
        end_time as ended_at,
        start_lat,
        start_lng,
        end_lat,
        end_lng,
        run_seconds as run_s,
        idle_seconds as idle_s,
        distance_raw,
        -- The unit the loader decided the raw distance was in (spec: metres, production: km).
        distance_raw_unit,
        distance_km,
        avg_speed_kmh,
        max_speed_kmh

    from source
    where imei is not null and start_time is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, started_at order by ended_at desc nulls last) = 1

)

select * from deduplicated
