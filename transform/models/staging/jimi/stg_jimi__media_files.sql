-- One row per dashcam file (photo or video) the platform lists for a device: the catalogue of
-- `jimi.device.jimi.media.URL`. URLs are kept as the API gives them; nothing is downloaded.
with

source as (

    {{ source_or_empty('jimi', 'media_files') }}

),

renamed as (

    select
        imei,
        file_url,
        create_time as created_at,
        alarm_time as alarm_at,
        camera_channel,
        case camera_channel when 1 then 'front' when 2 then 'inward' end as camera,
        media_kind,
        mime_type,
        file_size_bytes,
        thumb_url

    from source

)

select * from renamed
