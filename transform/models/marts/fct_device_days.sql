with

track_points as (

    select * from {{ ref('stg_jimi__track_points') }}

),

devices as (

    select * from {{ ref('dim_devices') }}

),

segments as (

    select
        imei,
        fixed_at,
        speed_kmh,
        lag(fixed_at) over by_device as previous_fixed_at,
        {{ haversine_km('lag(lat) over by_device', 'lag(lng) over by_device', 'lat', 'lng') }} as segment_km

    from track_points
    window by_device as (partition by imei order by fixed_at)

),

measured as (

    select
        imei,
        -- A segment belongs to the UTC day its later fix falls on.
        cast(timezone('UTC', fixed_at) as date) as activity_date,
        fixed_at,
        speed_kmh,
        coalesce(segment_km, 0) as segment_km,
        coalesce(date_diff('second', previous_fixed_at, fixed_at), 0) as segment_s

    from segments

),

classified as (

    select
        *,
        segment_s > 0
            and segment_km / (segment_s / 3600.0) > {{ var('max_plausible_speed_kmh') }} as is_jump,
        segment_s between 1 and {{ var('max_segment_gap_s') }}
            and (
                coalesce(speed_kmh, 0) >= {{ var('moving_speed_kmh') }}
                or segment_km / (segment_s / 3600.0) >= {{ var('moving_speed_kmh') }}
            ) as is_driving

    from measured

),

daily as (

    select
        imei,
        activity_date,
        count(*) as fix_count,
        min(fixed_at) as first_fix_at,
        max(fixed_at) as last_fix_at,
        round(sum(case when not is_jump then segment_km else 0 end), 3) as distance_km,
        sum(case when is_driving and not is_jump then segment_s else 0 end) as driving_seconds,
        max(speed_kmh) as max_speed_kmh

    from classified
    group by imei, activity_date

),

final as (

    select
        daily.imei || '_' || strftime(daily.activity_date, '%Y-%m-%d') as device_day_id,
        daily.imei,
        devices.device_name,
        daily.activity_date,
        daily.distance_km,
        daily.driving_seconds,
        daily.max_speed_kmh,
        daily.fix_count,
        daily.first_fix_at,
        daily.last_fix_at

    from daily
    left join devices on daily.imei = devices.imei

)

select * from final
