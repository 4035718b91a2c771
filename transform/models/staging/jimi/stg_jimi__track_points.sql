with

source as (

    select * from {{ source_or_empty('jimi', 'track_points') }}

),

renamed as (

    select
        imei,
        gps_time as fixed_at,
        lat,
        lng,
        speed_kmh,
        direction_deg,
        pos_type,
        satellites,
        altitude_m,
        coalesce(acc_on, ignition_on) as is_ignition_on

    from source
    -- (0, 0) is the trackers' "no fix" marker, never a position.
    where not (lat = 0 and lng = 0)

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, fixed_at order by speed_kmh desc nulls last) = 1

)

select * from deduplicated
