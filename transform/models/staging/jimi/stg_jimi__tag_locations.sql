-- One row per TAG/beacon device and fix time: every newest fix `getTagMsg` answered, once each.
with

source as (

    {{ source_or_empty('jimi', 'tag_locations') }}

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
        case pos_type when 1 then 'GPS' when 2 then 'LBS' when 3 then 'WIFI' when 5 then 'BEACON' end as position_source,
        satellites

    from source
    where not (lat = 0 and lng = 0)

)

select * from renamed
