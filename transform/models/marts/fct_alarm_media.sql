{#- One row per alarm event and file recorded around it (bridge from fct_alarms to the dashcam's files). -#}
with

alarm_media as (

    select * from {{ ref('int_alarm_media') }}

),

alarms as (

    select alarm_id, alarm_at, alarm_type_id, alarm_name, category from {{ ref('fct_alarms') }}

),

final as (

    select
        alarm_media.alarm_media_id,
        alarm_media.alarm_id,
        alarm_media.imei,
        alarms.alarm_at,
        alarm_media.alarm_type_id,
        alarms.alarm_name,
        alarms.category,
        alarm_media.file_url,
        alarm_media.media_kind,
        alarm_media.mime_type,
        alarm_media.camera,
        alarm_media.camera_channel,
        alarm_media.created_at,
        alarm_media.file_size_bytes,
        alarm_media.thumb_url,
        alarm_media.preference_rank = 1 as is_preferred

    from alarm_media
    inner join alarms on alarm_media.alarm_id = alarms.alarm_id

)

select * from final
