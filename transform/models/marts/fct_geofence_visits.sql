{#-
    One row per device visit to a platform fence, derived from the unified positions (int_geofence_fixes)
    for every device, bound to the fence or not (a visit is a physical fact; `is_bound` says whether the
    platform watches that device on that fence, which is what its `in`/`out` alarms depend on).

    The rule (dbt vars, see dbt_project.yml):
    1. A run is a maximal sequence of consecutive usable fixes of the device inside the fence. It opens on
       its first fix inside and closes on the first fix outside after it (that fix's time is the exit, as
       the platform's `out` alarm has it); no fix after it yet: the run is still open.
    2. Consecutive runs of a device and fence are one visit when the device was outside for less than
       `geofence_exit_grace_s` seconds between them (first fix outside to the first fix back inside): a brief
       exit does not split a visit.
    3. A visit with fewer than `geofence_min_inside_fixes` fixes inside in all is GPS jitter at the boundary
       (a lone fix inside while passing the edge) and dropped, unless it is still open (where the device is
       now).
    Days play no part, so a visit across midnight stays one visit; a data gap while inside does not end a
    visit (the next fix decides).

    Reconciliation with the platform's fence alarms (fct_alarms, type `in`/`out`, geofence_id): an `in`
    alarm within `geofence_alarm_tolerance_s` of the entry and an `out` alarm within it of the exit are the
    visit's own alarms.
-#}
with

fixes as (

    select * from {{ ref('int_geofence_fixes') }}

),

fences as (

    select * from {{ ref('stg_jimi__platform_geofences') }}

),

bindings as (

    select distinct fence_id, imei from {{ ref('stg_jimi__geofence_devices') }}

),

fence_alarms as (

    select alarm_id, imei, geofence_id as fence_id, alarm_type_id, alarm_at
    from {{ ref('fct_alarms') }}
    where alarm_type_id in ('in', 'out') and geofence_id is not null

),

devices as (

    select * from {{ ref('dim_devices') }}

),

inside as (

    select
        *,
        fix_seq - row_number() over (partition by imei, fence_id order by fix_seq) as run_key

    from fixes
    where is_inside

),

runs as (

    select
        imei,
        fence_id,
        count(*) as fix_count,
        min(fixed_at) as entered_at,
        max(fixed_at) as last_inside_at,
        arg_min_null(lat, fixed_at) as entry_lat,
        arg_min_null(lng, fixed_at) as entry_lng,
        -- The fix before the run: none when the run starts at the device's first usable fix.
        arg_min_null(previous_fixed_at, fixed_at) as before_entry_at,
        arg_max_null(next_fixed_at, fixed_at) as exited_at,
        arg_max_null(next_lat, fixed_at) as exit_lat,
        arg_max_null(next_lng, fixed_at) as exit_lng

    from inside
    group by imei, fence_id, run_key

),

run_starts as (

    select
        *,
        case
            when lag(exited_at) over by_fence is null then 1
            when date_diff('second', lag(exited_at) over by_fence, entered_at) >= {{ var('geofence_exit_grace_s') }} then 1
            else 0
        end as starts_visit

    from runs
    window by_fence as (partition by imei, fence_id order by entered_at)

),

run_visits as (

    select
        *,
        sum(starts_visit) over (partition by imei, fence_id order by entered_at rows unbounded preceding) as visit_no

    from run_starts

),

visits as (

    select
        imei,
        fence_id,
        min(entered_at) as entered_at,
        arg_min_null(entry_lat, entered_at) as entry_lat,
        arg_min_null(entry_lng, entered_at) as entry_lng,
        arg_min_null(before_entry_at, entered_at) as before_entry_at,
        max(last_inside_at) as last_inside_at,
        -- The last run decides: null when it is still open.
        arg_max_null(exited_at, entered_at) as exited_at,
        arg_max_null(exit_lat, entered_at) as exit_lat,
        arg_max_null(exit_lng, entered_at) as exit_lng,
        sum(fix_count) as inside_fix_count,
        count(*) - 1 as brief_exit_count

    from run_visits
    group by imei, fence_id, visit_no
    having sum(fix_count) >= {{ var('geofence_min_inside_fixes') }} or arg_max_null(exited_at, entered_at) is null

),

enter_alarms as (

    select
        visits.imei,
        visits.fence_id,
        visits.entered_at,
        fence_alarms.alarm_id,
        fence_alarms.alarm_at

    from visits
    inner join fence_alarms
        on visits.imei = fence_alarms.imei
        and visits.fence_id = fence_alarms.fence_id
        and fence_alarms.alarm_type_id = 'in'
        and abs(date_diff('second', visits.entered_at, fence_alarms.alarm_at)) <= {{ var('geofence_alarm_tolerance_s') }}
    qualify row_number() over (
        partition by visits.imei, visits.fence_id, visits.entered_at
        order by abs(date_diff('millisecond', visits.entered_at, fence_alarms.alarm_at)), fence_alarms.alarm_at
    ) = 1

),

exit_alarms as (

    select
        visits.imei,
        visits.fence_id,
        visits.entered_at,
        fence_alarms.alarm_id,
        fence_alarms.alarm_at

    from visits
    inner join fence_alarms
        on visits.imei = fence_alarms.imei
        and visits.fence_id = fence_alarms.fence_id
        and fence_alarms.alarm_type_id = 'out'
        and abs(date_diff('second', visits.exited_at, fence_alarms.alarm_at)) <= {{ var('geofence_alarm_tolerance_s') }}
    qualify row_number() over (
        partition by visits.imei, visits.fence_id, visits.entered_at
        order by abs(date_diff('millisecond', visits.exited_at, fence_alarms.alarm_at)), fence_alarms.alarm_at
    ) = 1

),

final as (

    select
        md5(visits.imei || '|' || visits.fence_id || '|'
            || strftime(timezone('UTC', visits.entered_at), '%Y-%m-%d %H:%M:%S.%f')) as visit_id,
        visits.imei,
        devices.device_name,
        visits.fence_id,
        fences.fence_name,
        fences.fence_type,
        bindings.imei is not null as is_bound,
        visits.entered_at,
        cast(timezone('UTC', visits.entered_at) as date) as entered_date,
        visits.exited_at,
        visits.last_inside_at,
        visits.exited_at is null as is_open,
        visits.before_entry_at is not null as is_entry_observed,
        date_diff('second', visits.entered_at, coalesce(visits.exited_at, visits.last_inside_at)) as dwell_seconds,
        visits.inside_fix_count,
        visits.brief_exit_count,
        visits.entry_lat,
        visits.entry_lng,
        visits.exit_lat,
        visits.exit_lng,
        enter_alarms.alarm_id as enter_alarm_id,
        enter_alarms.alarm_at as enter_alarm_at,
        exit_alarms.alarm_id as exit_alarm_id,
        exit_alarms.alarm_at as exit_alarm_at,
        enter_alarms.alarm_id is not null as has_enter_alarm,
        exit_alarms.alarm_id is not null as has_exit_alarm,
        coalesce(list_contains(string_split(fences.alert_types, ','), 'in'), false) as alerts_on_enter,
        coalesce(list_contains(string_split(fences.alert_types, ','), 'out'), false) as alerts_on_exit,
        'derived' as source

    from visits
    inner join fences on visits.fence_id = fences.fence_id
    left join bindings on visits.fence_id = bindings.fence_id and visits.imei = bindings.imei
    left join devices on visits.imei = devices.imei
    left join enter_alarms
        on visits.imei = enter_alarms.imei
        and visits.fence_id = enter_alarms.fence_id
        and visits.entered_at = enter_alarms.entered_at
    left join exit_alarms
        on visits.imei = exit_alarms.imei
        and visits.fence_id = exit_alarms.fence_id
        and visits.entered_at = exit_alarms.entered_at

)

select
    *,
    -- The platform should have alarmed and did not (an observed entry or an exit of a bound device on a fence
    -- alerting on it), or alarmed for a device it does not watch there.
    (
        is_bound and (
            (alerts_on_enter and is_entry_observed and not has_enter_alarm)
            or (alerts_on_exit and exited_at is not null and not has_exit_alarm)
        )
    ) or (not is_bound and (has_enter_alarm or has_exit_alarm)) as alarm_mismatch

from final
