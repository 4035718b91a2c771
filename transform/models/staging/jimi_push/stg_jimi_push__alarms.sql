with

source as (

    {{ source_or_empty('jimi_push', 'alarms') }}

),

renamed as (

    select
        imei,
        -- The production integration's poll/push field table (docs/jimi-api.md #13) pairs poll `alertTime` with push
        -- `gateTime`; `msg.alarmTime` is the device's own time of the fix the alarm sits on (the loader
        -- falls back to gateTime when it is missing).
        coalesce(gate_time, alarm_time) as alarm_at,
        alarm_time as device_alarm_at,
        trim(alarm_type_id) as alarm_type_id,
        alarm_type_name,
        coalesce(alarm_cleared, false) as is_cleared,
        record_type,
        msg_class,
        lat,
        lng,
        speed_kmh,
        case when direction_deg >= 0 then direction_deg end as direction_deg,
        nullif(trim(alert_value), '') as alert_value,
        standard_alarm_value,
        alarm_serial_no,
        alarm_level,
        nullif(trim(fence_id), '') as fence_id,
        nullif(trim(driver_id), '') as driver_id,
        nullif(trim(driver_name), '') as driver_name,
        nullif(trim(file_url), '') as file_url,
        received_at

    from source
    -- ICCID/VIN updates share /pushalarm but are not alarms (record type DEVICE, or none sent).
    where imei is not null
        and coalesce(gate_time, alarm_time) is not null
        and nullif(trim(alarm_type_id), '') is not null
        and coalesce(upper(record_type), 'DEVICE') = 'DEVICE'

),

deduplicated as (

    -- The raw table's natural key; a push redelivered with another gateTime is still the same alarm (the
    -- earliest gateTime is kept: the sender's first attempt).
    select * from renamed
    qualify row_number() over (
        partition by imei, device_alarm_at, alarm_type_id, is_cleared
        order by alarm_at, received_at desc nulls last
    ) = 1

)

select * from deduplicated
