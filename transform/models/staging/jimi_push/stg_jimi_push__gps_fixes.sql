with

source as (

    select * from {{ source_or_empty('jimi_push', 'gps_fixes') }}

),

renamed as (

    select
        imei,
        gps_time as fixed_at,
        gate_time as gateway_at,
        received_at,
        lat,
        lng,
        speed_kmh,
        direction_deg,
        pos_type,
        satellites,
        altitude_m,
        odometer_km,
        acc_on as is_ignition_on,
        coalesce(reuploaded, false) as is_reuploaded

    from source
    where imei is not null
        and gps_time is not null
        -- (0, 0) is the trackers' "no fix" marker, never a position.
        and not (lat = 0 and lng = 0)

),

deduplicated as (

    -- The loader merges on imei + fix time already; a repeated delivery keeps its first arrival.
    select * from renamed
    qualify row_number() over (partition by imei, fixed_at order by received_at nulls last) = 1

)

select * from deduplicated
