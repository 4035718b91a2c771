{#-
    Report trips that are not trips: the device's own fixes show it parked throughout (GPS drift counted as
    driving by the platform's report). They are left out of fct_trips and fct_device_days; this lists them
    with the reason and the evidence, so the rejection can be checked.
-#}

with

report_trips as (

    select * from {{ ref('int_report_only_trips') }}
    where rejection_reason is not null

),

devices as (

    select * from {{ ref('dim_devices') }}

),

final as (

    select
        report_trips.trip_id,
        report_trips.imei,
        devices.device_name,
        report_trips.source,
        report_trips.started_at,
        report_trips.ended_at,
        cast(timezone('UTC', report_trips.started_at) as date) as start_date,
        date_diff('second', report_trips.started_at, report_trips.ended_at) as duration_s,
        report_trips.driving_s,
        cast(round(report_trips.distance_km, 3) as double) as distance_km,
        report_trips.rejection_reason,
        report_trips.covering_fix_count,
        report_trips.max_fix_gap_s,
        report_trips.spread_m

    from report_trips
    left join devices using (imei)

)

select * from final
