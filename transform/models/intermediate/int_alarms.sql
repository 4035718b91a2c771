{#-
    One row per alarm event, polled (`jimi.device.alarm.list`) and pushed (`/pushalarm`) mapped onto one shape
    (docs/jimi-api.md #13: alertTypeId/alarmTypeName/alertTime <-> alertType/alarmName/gateTime). A polled and a
    pushed alarm are the same event when they have the same device and type id and are at most
    `alarm_match_tolerance_s` apart and each is the other's nearest such candidate (a one-to-one match, so two
    real alarms close together are never merged into one, nor one counted twice). Clearing pushes
    (`removeAlarmType`) are not events: they close the latest earlier alarm of their type.
-#}
with

poll as (

    select * from {{ ref('stg_jimi__alarms') }}

),

push as (

    select * from {{ ref('stg_jimi_push__alarms') }}

),

push_typed as (

    -- JT/T 808 dashcams (msgClass 1) use their own code space for three codes that the TSP table gives other
    -- meanings (docs/jimi-api.md#alarm-type-ids, #39): 256 is the standard alarm bitmask, 264/265/266 are ADAS/DMS/BSD.
    select
        *,
        case
            when msg_class = 1 and alarm_type_id = '256' then
                case
                    when standard_alarm_value & 1 = 1 then '1'
                    when standard_alarm_value & 2 = 2 then '6'
                    when standard_alarm_value & 2048 = 2048 then 'jtt808_camera_fault'
                    else 'jtt808_standard'
                end
            when msg_class = 1 and alarm_type_id = '264' then 'jtt808_adas'
            when msg_class = 1 and alarm_type_id = '265' then 'jtt808_dms'
            when msg_class = 1 and alarm_type_id = '266' then 'jtt808_bsd'
            -- Codes pushed as numbers may arrive with leading zeros or as "6.0"; the poll sends "6".
            when regexp_full_match(alarm_type_id, '[0-9]+(\.0+)?')
                then cast(cast(cast(alarm_type_id as double) as bigint) as varchar)
            else alarm_type_id
        end as alarm_type_key

    from push

),

push_raised as (

    -- Two raw codes can map to one key ("06" and "6"): still one alarm per device, key and device time.
    select * from push_typed
    where not is_cleared
    qualify row_number() over (partition by imei, alarm_type_key, device_alarm_at order by alarm_at) = 1

),

push_cleared as (

    select * from push_typed where is_cleared

),

poll_keyed as (

    select
        *,
        case
            when regexp_full_match(alarm_type_id, '[0-9]+(\.0+)?')
                then cast(cast(cast(alarm_type_id as double) as bigint) as varchar)
            else alarm_type_id
        end as alarm_type_key

    from poll
    qualify row_number() over (partition by imei, alarm_type_key, alarm_at order by alarm_type_id) = 1

),

candidates as (

    select
        poll_keyed.imei,
        poll_keyed.alarm_type_key,
        poll_keyed.alarm_at as poll_alarm_at,
        push_raised.device_alarm_at as push_device_alarm_at,
        abs(date_diff('millisecond', poll_keyed.alarm_at, push_raised.alarm_at)) as gap_ms

    from poll_keyed
    inner join push_raised
        on poll_keyed.imei = push_raised.imei
        and poll_keyed.alarm_type_key = push_raised.alarm_type_key
        and push_raised.alarm_at
            between poll_keyed.alarm_at - to_seconds({{ var('alarm_match_tolerance_s') }})
            and poll_keyed.alarm_at + to_seconds({{ var('alarm_match_tolerance_s') }})

),

ranked as (

    select
        *,
        row_number() over (
            partition by imei, alarm_type_key, poll_alarm_at order by gap_ms, push_device_alarm_at
        ) as rank_for_poll,
        row_number() over (
            partition by imei, alarm_type_key, push_device_alarm_at order by gap_ms, poll_alarm_at
        ) as rank_for_push

    from candidates

),

matches as (

    select imei, alarm_type_key, poll_alarm_at, push_device_alarm_at
    from ranked
    where rank_for_poll = 1 and rank_for_push = 1

),

poll_matched as (

    select
        poll_keyed.*,
        matches.push_device_alarm_at

    from poll_keyed
    left join matches
        on poll_keyed.imei = matches.imei
        and poll_keyed.alarm_type_key = matches.alarm_type_key
        and poll_keyed.alarm_at = matches.poll_alarm_at

),

unified as (

    select
        coalesce(poll_matched.imei, push_raised.imei) as imei,
        coalesce(poll_matched.alarm_type_key, push_raised.alarm_type_key) as alarm_type_id,
        -- The platform's alertTime when polled; the push's gateTime otherwise.
        coalesce(poll_matched.alarm_at, push_raised.alarm_at) as alarm_at,
        poll_matched.alarm_at as poll_alarm_at,
        push_raised.alarm_at as push_alarm_at,
        coalesce(poll_matched.alarm_type_name, push_raised.alarm_type_name) as reported_alarm_name,
        coalesce(poll_matched.positioned_at, push_raised.device_alarm_at) as positioned_at,
        case when poll_matched.lat is not null then poll_matched.lat else push_raised.lat end as lat,
        case when poll_matched.lat is not null then poll_matched.lng else push_raised.lng end as lng,
        coalesce(poll_matched.speed_kmh, push_raised.speed_kmh) as speed_kmh,
        push_raised.direction_deg,
        coalesce(poll_matched.geofence_id, push_raised.fence_id) as geofence_id,
        push_raised.alert_value,
        push_raised.alarm_level,
        push_raised.alarm_serial_no,
        push_raised.msg_class,
        push_raised.driver_id,
        push_raised.driver_name,
        push_raised.file_url,
        case
            when poll_matched.imei is not null and push_raised.imei is not null then 'both'
            when poll_matched.imei is not null then 'poll'
            else 'push'
        end as source

    from poll_matched
    full outer join push_raised
        on poll_matched.imei = push_raised.imei
        and poll_matched.alarm_type_key = push_raised.alarm_type_key
        and poll_matched.push_device_alarm_at = push_raised.device_alarm_at

),

identified as (

    select
        -- Anchored on the push when there is one: pushes usually arrive minutes before the next poll, so an
        -- alarm keeps its id when the polled copy joins it.
        md5(imei || '|' || alarm_type_id || '|' || strftime(timezone('UTC', coalesce(push_alarm_at, poll_alarm_at)),
            '%Y-%m-%d %H:%M:%S.%f')) as alarm_id,
        *

    from unified

),

clearings as (

    select
        identified.alarm_id,
        min(push_cleared.alarm_at) as cleared_at

    from push_cleared
    asof inner join identified
        on push_cleared.imei = identified.imei
        and push_cleared.alarm_type_key = identified.alarm_type_id
        and push_cleared.alarm_at >= identified.alarm_at
    group by identified.alarm_id

),

final as (

    select
        identified.*,
        clearings.cleared_at

    from identified
    left join clearings on identified.alarm_id = clearings.alarm_id

)

select * from final
