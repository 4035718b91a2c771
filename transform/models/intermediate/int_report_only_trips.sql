{{ config(materialized='table') }}

{#-
    Report trips with no derived counterpart - the API mileage report's trips and the pushed end-of-trip
    reports that no derived trip overlaps - each judged against the device's own fixes.

    A platform's report counts GPS drift while parked as a string of short trips. Such a trip is rejected
    (rejection_reason `stationary_fixes`) when the usable fixes cover its whole span densely - from the last
    fix at or before its start to the first fix at or after its end, no gap longer than max_segment_gap_s -
    and all of them lie within stop_radius_m of their mean position. Where the fixes have a longer gap (a
    basement, no signal) or are missing, the report is all there is and the trip stands.

    A pushed report that overlaps a mileage-report trip which stands (reconciled with a derived trip or kept
    here) is the same trip reported twice: it is left out.
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

usable_fixes as (

    select * from {{ ref('int_positions') }}
    where is_precise and not is_gps_jump

),

reports as (

    select
        imei || '_a_' || cast(epoch(started_at) as bigint) as trip_id,
        imei,
        'api_mileage' as source,
        started_at,
        ended_at,
        run_s as reported_driving_s,
        idle_s as reported_idle_s,
        cast(distance_km as decimal(18, 6)) as distance_km,
        distance_raw_unit,
        max_speed_kmh,
        start_lat,
        start_lng,
        end_lat,
        end_lng,
        cast(null as decimal(18, 6)) as fuel_used_l

    from mileage_report

    union all

    select
        imei || '_p_' || cast(epoch(started_at) as bigint) as trip_id,
        imei,
        'push_trip_report' as source,
        started_at,
        ended_at,
        cast(null as bigint) as reported_driving_s,
        idle_s as reported_idle_s,
        cast(distance_km as decimal(18, 6)) as distance_km,
        cast(null as varchar) as distance_raw_unit,
        cast(null as double) as max_speed_kmh,
        start_lat,
        start_lng,
        end_lat,
        end_lng,
        cast(fuel_l as decimal(18, 6)) as fuel_used_l

    from push_reports

),

timed as (

    -- Idle and driving time held within the trip: the platform's run time may include the idling (the
    -- simulator's does), and a push report gives only the idle time.
    select
        *,
        least(coalesce(reported_idle_s, 0), date_diff('second', started_at, ended_at)) as idle_s

    from reports

),

report_trips as (

    select
        * exclude (reported_driving_s, reported_idle_s),
        least(
            coalesce(reported_driving_s, date_diff('second', started_at, ended_at)),
            date_diff('second', started_at, ended_at) - idle_s
        ) as driving_s

    from timed

),

unmatched as (

    select * from report_trips
    where {{ is_report_only('report_trips', ['derived']) }}

),

report_days as (

    -- The UTC days of each trip widened by the longest allowed gap: the fixes are looked up per device and
    -- day, so a long history is never range-joined as a whole.
    select
        trip_id,
        imei,
        started_at,
        ended_at,
        cast(unnest(generate_series(
            cast(timezone('UTC', started_at - interval {{ var('max_segment_gap_s') }} second) as date),
            cast(timezone('UTC', ended_at + interval {{ var('max_segment_gap_s') }} second) as date),
            interval 1 day
        )) as date) as fix_date

    from unmatched

),

nearby_fixes as (

    select
        report_days.trip_id,
        report_days.started_at,
        report_days.ended_at,
        usable_fixes.fixed_at,
        usable_fixes.lat,
        usable_fixes.lng,
        usable_fixes.segment_s

    from report_days
    inner join usable_fixes
        on usable_fixes.imei = report_days.imei
        and usable_fixes.fix_date = report_days.fix_date
    where usable_fixes.fixed_at
        between report_days.started_at - interval {{ var('max_segment_gap_s') }} second
        and report_days.ended_at + interval {{ var('max_segment_gap_s') }} second

),

cover_bounds as (

    select
        trip_id,
        max(fixed_at) filter (where fixed_at <= started_at) as covered_from,
        min(fixed_at) filter (where fixed_at >= ended_at) as covered_to

    from nearby_fixes
    group by trip_id

),

covering_fixes as (

    select
        nearby_fixes.*,
        cover_bounds.covered_from

    from nearby_fixes
    inner join cover_bounds using (trip_id)
    where nearby_fixes.fixed_at between cover_bounds.covered_from and cover_bounds.covered_to

),

centres as (

    select
        trip_id,
        count(*) as fix_count,
        -- segment_s is the time since the device's previous usable fix: for every fix after the first one
        -- here, that previous fix is in this span too.
        coalesce(max(segment_s) filter (where fixed_at > covered_from), 0) as max_fix_gap_s,
        -- Decimal sums: the same mean in any summation order.
        avg(cast(lat as decimal(18, 9))) as centre_lat,
        avg(cast(lng as decimal(18, 9))) as centre_lng

    from covering_fixes
    group by trip_id

),

fix_evidence as (

    select
        centres.trip_id,
        centres.fix_count,
        centres.max_fix_gap_s,
        round(max({{ haversine_km('centres.centre_lat', 'centres.centre_lng', 'covering_fixes.lat', 'covering_fixes.lng') }}) * 1000, 1)
            as spread_m

    from centres
    inner join covering_fixes using (trip_id)
    group by centres.trip_id, centres.fix_count, centres.max_fix_gap_s

),

judged as (

    select
        unmatched.*,
        fix_evidence.fix_count as covering_fix_count,
        fix_evidence.max_fix_gap_s,
        fix_evidence.spread_m,
        case
            when fix_evidence.max_fix_gap_s <= {{ var('max_segment_gap_s') }}
                and fix_evidence.spread_m <= {{ var('stop_radius_m') }}
                then 'stationary_fixes'
        end as rejection_reason

    from unmatched
    left join fix_evidence using (trip_id)

),

standing_mileage as (

    -- Mileage-report trips that stand: reconciled with a derived trip, or kept here.
    select imei, started_at, ended_at from mileage_report
    anti join (
        select imei, started_at from judged
        where source = 'api_mileage' and rejection_reason is not null
    ) as rejected using (imei, started_at)

),

final as (

    select * from judged
    where source = 'api_mileage' or ({{ is_report_only('judged', ['standing_mileage']) }})

)

select * from final
