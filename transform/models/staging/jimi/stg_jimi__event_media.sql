-- One row per file attached to an alarm event (`jimi.device.media.event.URL`). An event's files share
-- imei + alarm_at + alarm_type_id, the same three values the alarm has in stg/fct alarms (alarm time =
-- `alertTime`, type = `alertTypeId`), which is how an alarm finds its clip.
with

source as (

    {{ source_or_empty('jimi', 'event_media') }}

),

renamed as (

    select
        imei,
        alarm_time as alarm_at,
        event_type_id as alarm_type_id,
        event_type_name,
        file_url,
        create_time as created_at,
        lat,
        lng,
        media_kind,
        mime_type,
        camera_channel,
        case camera_channel when 1 then 'front' when 2 then 'inward' end as camera,
        file_size_bytes,
        thumb_url

    from source

)

select * from renamed
