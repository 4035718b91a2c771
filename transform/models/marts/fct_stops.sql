{{
    config(
        materialized='incremental',
        incremental_strategy='replace_tail',
        replace_tail_order='started_at',
        on_schema_change='fail'
    )
}}

{#-
    Derived stops (parking with the ignition off, idling with it on), reconciled with the API's parking
    report; report stops that no derived trip or stop overlaps (no fixes were loaded for that time) are
    kept with their own source. Incremental runs as in fct_trips: each device's stops are redone from the
    earlier of a day before its first changed derived stop and reconcile_lookback_days before its newest.
-#}

with

derived as (

    select * from {{ ref('int_stops_derived') }}

),

derived_trips as (

    select * from {{ ref('int_trips_derived') }}

),

parking_report as (

    select * from {{ ref('stg_jimi__parking') }}

),

devices as (

    select * from {{ ref('dim_devices') }}

),

{% if is_incremental() %}

derived_keys as (

    select stop_id, imei, started_at, ended_at, stop_kind, fix_count, is_open, round(lat, 6) as lat, round(lng, 6) as lng
    from derived

),

existing_derived as (

    select stop_id, imei, started_at, ended_at, stop_kind, fix_count, is_open, lat, lng
    from {{ this }}
    where source = 'derived'

),

changed as (

    (select * from derived_keys except select * from existing_derived)
    union all
    (select * from existing_derived except select * from derived_keys)

),

bounds as (

    select imei, min(started_at) - interval 1 day as redo_from
    from changed
    group by imei

    union all

    select imei, max(started_at) - interval {{ var('reconcile_lookback_days') }} day as redo_from
    from {{ this }}
    group by imei

    union all

    -- A renamed device: its name is on every row, so all of them are redone.
    select distinct existing.imei, timestamptz '-infinity' as redo_from
    from {{ this }} as existing
    inner join devices using (imei)
    where existing.device_name is distinct from devices.device_name

),

all_devices as (

    select imei from derived
    union
    select imei from parking_report

),

{{ redo_scope_ctes() }}

{% else %}

derived_in_scope as (

    select * from derived

),

{% endif %}

report_matches as (

    -- The parking-report rows overlapping each derived stop; the longest overlap names the report's kind
    -- and address.
    select
        derived_in_scope.stop_id,
        count(*) as report_stop_count,
        arg_max(
            parking_report.stop_kind,
            date_diff('second',
                greatest(parking_report.started_at, derived_in_scope.started_at),
                least(parking_report.ended_at, derived_in_scope.ended_at))
        ) as report_stop_kind,
        arg_max(
            parking_report.address,
            date_diff('second',
                greatest(parking_report.started_at, derived_in_scope.started_at),
                least(parking_report.ended_at, derived_in_scope.ended_at))
        ) as address,
        sum(parking_report.duration_s) as report_duration_s

    from derived_in_scope
    inner join parking_report
        on {{ overlaps('parking_report', 'derived_in_scope') }}
    group by derived_in_scope.stop_id

),

derived_stops as (

    select
        derived_in_scope.stop_id,
        derived_in_scope.imei,
        'derived' as source,
        derived_in_scope.started_at,
        derived_in_scope.ended_at,
        derived_in_scope.duration_s,
        derived_in_scope.stop_kind,
        round(derived_in_scope.lat, 6) as lat,
        round(derived_in_scope.lng, 6) as lng,
        report_matches.address,
        derived_in_scope.fix_count,
        derived_in_scope.is_open,
        coalesce(report_matches.report_stop_count, 0) as report_stop_count,
        report_matches.report_stop_kind,
        report_matches.report_duration_s

    from derived_in_scope
    left join report_matches using (stop_id)

),

report_only as (

    select
        parking_report.imei || '_r_' || cast(epoch(parking_report.started_at) as bigint) as stop_id,
        parking_report.imei,
        'parking_report' as source,
        parking_report.started_at,
        parking_report.ended_at,
        date_diff('second', parking_report.started_at, parking_report.ended_at) as duration_s,
        parking_report.stop_kind,
        round(parking_report.lat, 6) as lat,
        round(parking_report.lng, 6) as lng,
        parking_report.address,
        cast(null as bigint) as fix_count,
        false as is_open,
        1 as report_stop_count,
        parking_report.stop_kind as report_stop_kind,
        parking_report.duration_s as report_duration_s

    from parking_report
    {% if is_incremental() %}
    inner join redo_from using (imei)
    {% endif %}
    where {{ is_report_only('parking_report', ['derived', 'derived_trips']) }}
    {% if is_incremental() %}
        and parking_report.started_at >= redo_from.redo_from
    {% endif %}

),

unioned as (

    select * from derived_stops
    union all
    select * from report_only

),

final as (

    select
        unioned.stop_id,
        unioned.imei,
        devices.device_name,
        unioned.source,
        unioned.started_at,
        unioned.ended_at,
        cast(timezone('UTC', unioned.started_at) as date) as start_date,
        unioned.duration_s,
        unioned.stop_kind,
        unioned.lat,
        unioned.lng,
        unioned.address,
        unioned.fix_count,
        unioned.is_open,
        unioned.report_stop_count,
        unioned.report_stop_kind,
        unioned.report_duration_s,
        -- Parking vs idling: does the report agree with the ignition seen in the fixes?
        case
            when unioned.source <> 'derived' or unioned.report_stop_kind is null or unioned.stop_kind = 'unknown'
                then null
            else unioned.stop_kind <> unioned.report_stop_kind
        end as is_kind_mismatch

    from unioned
    left join devices using (imei)

)

select * from final
