{#-
    One row per alarm event and file the platform attached to it (`jimi.device.media.event.URL`): an event's
    files name the device, the alarm time (alertTime) and the alarm type id, so each is matched to the
    int_alarms row of the same device and type whose poll or push time is nearest to it, at most
    `alarm_match_tolerance_s` apart (exact for the simulator and the platform, which send alertTime). Files
    whose alarm is not (yet) loaded have no row. A dashcam's harsh braking (145) typically gets a front and
    an inward video clip and a front photo.
-#}
with

alarms as (

    select * from {{ ref('int_alarms') }}

),

event_media as (

    select
        *,
        -- Type ids as int_alarms keys them ("145", not "145.0" or "0145").
        case
            when regexp_full_match(alarm_type_id, '[0-9]+(\.0+)?')
                then cast(cast(cast(alarm_type_id as double) as bigint) as varchar)
            else alarm_type_id
        end as alarm_type_key

    from {{ ref('stg_jimi__event_media') }}

),

matched as (

    select
        alarms.alarm_id,
        event_media.*

    from event_media
    inner join alarms
        on event_media.imei = alarms.imei
        and event_media.alarm_type_key = alarms.alarm_type_id
        and event_media.alarm_at between alarms.alarm_at - to_seconds({{ var('alarm_match_tolerance_s') }})
            and alarms.alarm_at + to_seconds({{ var('alarm_match_tolerance_s') }})
    qualify row_number() over (
        partition by event_media.imei, event_media.alarm_at, event_media.alarm_type_id, event_media.file_url
        order by least(
            abs(date_diff('millisecond', event_media.alarm_at, coalesce(alarms.poll_alarm_at, alarms.alarm_at))),
            abs(date_diff('millisecond', event_media.alarm_at, coalesce(alarms.push_alarm_at, alarms.alarm_at)))
        ), alarms.alarm_id
    ) = 1

),

final as (

    select
        md5(alarm_id || '|' || file_url) as alarm_media_id,
        alarm_id,
        imei,
        alarm_at as event_alarm_at,
        alarm_type_key as alarm_type_id,
        event_type_name,
        file_url,
        media_kind,
        mime_type,
        camera_channel,
        camera,
        created_at,
        file_size_bytes,
        thumb_url,
        lat,
        lng,
        -- Order of preference within an alarm's files of one kind: front camera first, then the earliest.
        row_number() over (
            partition by alarm_id, media_kind
            order by case camera when 'front' then 0 when 'inward' then 1 else 2 end, created_at, file_url
        ) as preference_rank

    from matched

)

select * from final
