{{
    config(
        materialized='incremental',
        incremental_strategy='replace_tail',
        replace_tail_order='started_at',
        pre_hook="{% if is_incremental() %}
            delete from {{ this }} where source <> 'derived' and trip_id not in (
                select trip_id from {{ ref('int_report_only_trips') }} where rejection_reason is null)
            {% endif %}",
        on_schema_change='fail'
    )
}}

{#-
    Derived trips, reconciled with the API's mileage report and the devices' pushed trip reports; report
    trips that no derived trip overlaps are kept with their own source unless the device's own fixes show
    it parked throughout (int_report_only_trips; the rejected ones are in fct_rejected_report_trips).

    Incremental runs redo each device's trips from the earliest of: a day before its first derived trip
    that changed (re-derived differently, new or gone), the first report-only trip that is new or no longer
    kept, and reconcile_lookback_days before its newest trip (reports for recent days keep arriving and are
    re-polled for a week). A report-only trip no longer kept (now rejected, or a derived trip covers it) is
    deleted first, wherever it is (the pre-hook): its device may have nothing else to redo, and replace_tail
    only replaces the tails of devices in the batch. Changed distances of report trips loaded for older
    days (a long backfill) need a --full-refresh.
-#}

with

derived as (

    select * from {{ ref('int_trips_derived') }}

),

mileage_report as (

    select * from {{ ref('stg_jimi__trips') }}

),

push_reports as (

    select * from {{ ref('stg_jimi_push__trip_reports') }}
    -- Only the end report has the trip's totals; a start report alone is a trip still under way.
    where trip_phase = 'end' and ended_at is not null

),

report_trips as (

    -- Report trips no derived trip overlaps, less those the fixes reject.
    select * from {{ ref('int_report_only_trips') }}
    where rejection_reason is null

),

devices as (

    select * from {{ ref('dim_devices') }}

),

{% if is_incremental() %}

derived_keys as (

    select
        trip_id, imei, started_at, ended_at, cast(round(distance_km, 3) as double) as distance_km, fix_count, is_open,
        max_speed_kmh, idle_s
    from derived

),

existing_derived as (

    select
        trip_id, imei, started_at, ended_at, distance_km, fix_count, is_open, max_speed_kmh, idle_s
    from {{ this }}
    where source = 'derived'

),

changed as (

    (select * from derived_keys except select * from existing_derived)
    union all
    (select * from existing_derived except select * from derived_keys)

),

report_keys as (

    select trip_id, imei, started_at, ended_at from report_trips

),

existing_reports as (

    select trip_id, imei, started_at, ended_at
    from {{ this }}
    where source <> 'derived'

),

changed_reports as (

    (select * from report_keys except select * from existing_reports)
    union all
    (select * from existing_reports except select * from report_keys)

),

bounds as (

    select
        imei,
        min(started_at) - interval 1 day as redo_from

    from changed
    group by imei

    union all

    select imei, min(started_at) as redo_from
    from changed_reports
    group by imei

    union all

    select
        imei,
        max(started_at) - interval {{ var('reconcile_lookback_days') }} day as redo_from

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
    select imei from report_trips

),

{{ redo_scope_ctes() }}

{% else %}

derived_in_scope as (

    select * from derived

),

{% endif %}

api_matches as (

    -- Every mileage-report trip overlapping a derived trip in time: the API may split or merge trips.
    select
        derived_in_scope.trip_id,
        count(*) as api_trip_count,
        sum(cast(mileage_report.distance_km as decimal(18, 6))) as api_distance_km,
        max(mileage_report.distance_raw_unit) as api_distance_raw_unit

    from derived_in_scope
    inner join mileage_report
        on {{ overlaps('mileage_report', 'derived_in_scope') }}
    group by derived_in_scope.trip_id

),

push_matches as (

    select
        derived_in_scope.trip_id,
        count(*) as push_trip_count,
        sum(cast(push_reports.distance_km as decimal(18, 6))) as push_distance_km,
        sum(cast(push_reports.fuel_l as decimal(18, 6))) as fuel_used_l

    from derived_in_scope
    inner join push_reports
        on {{ overlaps('push_reports', 'derived_in_scope') }}
    group by derived_in_scope.trip_id

),

derived_trips as (

    select
        derived_in_scope.trip_id,
        derived_in_scope.imei,
        'derived' as source,
        derived_in_scope.started_at,
        derived_in_scope.ended_at,
        derived_in_scope.duration_s,
        derived_in_scope.driving_s,
        derived_in_scope.idle_s,
        derived_in_scope.distance_km,
        derived_in_scope.max_speed_kmh,
        derived_in_scope.start_lat,
        derived_in_scope.start_lng,
        derived_in_scope.end_lat,
        derived_in_scope.end_lng,
        push_matches.fuel_used_l,
        derived_in_scope.fix_count,
        derived_in_scope.is_open,
        coalesce(api_matches.api_trip_count, 0) as api_trip_count,
        api_matches.api_distance_km,
        api_matches.api_distance_raw_unit,
        coalesce(push_matches.push_trip_count, 0) as push_trip_count,
        push_matches.push_distance_km

    from derived_in_scope
    left join api_matches using (trip_id)
    left join push_matches using (trip_id)

),

report_only as (

    select
        report_trips.trip_id,
        report_trips.imei,
        report_trips.source,
        report_trips.started_at,
        report_trips.ended_at,
        date_diff('second', report_trips.started_at, report_trips.ended_at) as duration_s,
        report_trips.driving_s,
        report_trips.idle_s,
        report_trips.distance_km,
        report_trips.max_speed_kmh,
        report_trips.start_lat,
        report_trips.start_lng,
        report_trips.end_lat,
        report_trips.end_lng,
        report_trips.fuel_used_l,
        cast(null as bigint) as fix_count,
        false as is_open,
        case when report_trips.source = 'api_mileage' then 1 else 0 end as api_trip_count,
        case when report_trips.source = 'api_mileage' then report_trips.distance_km end as api_distance_km,
        report_trips.distance_raw_unit as api_distance_raw_unit,
        case when report_trips.source = 'push_trip_report' then 1 else 0 end as push_trip_count,
        case when report_trips.source = 'push_trip_report' then report_trips.distance_km end as push_distance_km

    from report_trips
    {% if is_incremental() %}
    inner join redo_from using (imei)
    where report_trips.started_at >= redo_from.redo_from
    {% endif %}

),

unioned as (

    select * from derived_trips
    union all
    select * from report_only

),

reconciled as (

    select
        *,
        -- The derived distance is the reference; a report differing by more than the tolerance (the
        -- larger of a share and an absolute margin) is flagged. An open trip is still growing: not judged.
        case
            when source <> 'derived' or is_open then null
            when api_distance_km is null and push_distance_km is null then null
            else coalesce(
                    abs(api_distance_km - distance_km) > greatest(
                        {{ var('trip_distance_tolerance_pct') }} / 100.0 * distance_km,
                        {{ var('trip_distance_tolerance_km') }}
                    ),
                    false
                )
                or coalesce(
                    abs(push_distance_km - distance_km) > greatest(
                        {{ var('trip_distance_tolerance_pct') }} / 100.0 * distance_km,
                        {{ var('trip_distance_tolerance_km') }}
                    ),
                    false
                )
        end as is_distance_mismatch,
        -- About a thousand times off: the report's distance was read in the wrong unit (metres vs km).
        case
            when source <> 'derived' or api_distance_km is null or distance_km < 0.1 then null
            else api_distance_km / distance_km between 300 and 3000
                or api_distance_km / distance_km between 1 / 3000.0 and 1 / 300.0
        end as is_distance_unit_suspect

    from unioned

),

final as (

    select
        reconciled.trip_id,
        reconciled.imei,
        devices.device_name,
        reconciled.source,
        reconciled.started_at,
        reconciled.ended_at,
        cast(timezone('UTC', reconciled.started_at) as date) as start_date,
        reconciled.duration_s,
        reconciled.driving_s,
        reconciled.idle_s,
        cast(round(reconciled.distance_km, 3) as double) as distance_km,
        case
            when reconciled.duration_s > 0
                then round(cast(reconciled.distance_km as double) / (reconciled.duration_s / 3600.0), 1)
        end as avg_speed_kmh,
        reconciled.max_speed_kmh,
        reconciled.start_lat,
        reconciled.start_lng,
        reconciled.end_lat,
        reconciled.end_lng,
        cast(reconciled.fuel_used_l as double) as fuel_used_l,
        reconciled.fix_count,
        reconciled.is_open,
        reconciled.api_trip_count,
        cast(round(reconciled.api_distance_km, 3) as double) as api_distance_km,
        reconciled.api_distance_raw_unit,
        reconciled.push_trip_count,
        cast(round(reconciled.push_distance_km, 3) as double) as push_distance_km,
        reconciled.is_distance_mismatch,
        reconciled.is_distance_unit_suspect

    from reconciled
    left join devices using (imei)

)

select * from final
