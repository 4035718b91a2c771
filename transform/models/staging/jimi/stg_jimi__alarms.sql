with

source as (

    {{ source_or_empty('jimi', 'alarms') }}

),

renamed as (

    select
        imei,
        -- alertTime: when the platform raised the alarm; positioningTime: the fix it was raised on.
        alarm_time as alarm_at,
        trim(alarm_type_id) as alarm_type_id,
        alarm_type_name,
        position_time as positioned_at,
        -- (0, 0) is the trackers' "no fix" marker, never a position.
        case when not (lat = 0 and lng = 0) then lat end as lat,
        case when not (lat = 0 and lng = 0) then lng end as lng,
        speed_kmh,
        nullif(trim(geofence_id), '') as geofence_id,
        device_name,
        model

    from source
    where imei is not null and alarm_time is not null and nullif(trim(alarm_type_id), '') is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by imei, alarm_at, alarm_type_id order by positioned_at desc nulls last, speed_kmh desc nulls last
    ) = 1

)

select * from deduplicated
