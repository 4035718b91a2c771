with

source as (

    select * from {{ source_or_empty('jimi', 'live_locations') }}

),

renamed as (

    select
        imei,
        gps_time as fixed_at,
        heartbeat_time as heartbeat_at,
        -- location.list zeroes the position of expired devices: (0, 0) is "unknown", not the Gulf of Guinea.
        case when not (lat = 0 and lng = 0) then lat end as lat,
        case when not (lat = 0 and lng = 0) then lng end as lng,
        speed_kmh,
        direction_deg,
        acc_on as is_ignition_on,
        is_online,
        pos_type,
        satellites,
        gsm_signal_level,
        battery_pct,
        -- powerValue / batteryPowerVal: undocumented units; the values seen are volts (12.7, 24.9; 4.1).
        external_power_raw as external_power_v,
        battery_power_raw as battery_voltage_v,
        temperature_c,
        tracker_oil_raw,
        odometer_km,
        coalesce(is_expired, false) as is_expired,
        is_activated,
        nullif(location_desc, '') as location_desc,
        device_name

    from source
    where imei is not null and gps_time is not null

),

deduplicated as (

    -- One sweep row per fix; if two sweeps saw the same fix, the later heartbeat is the newer status.
    select * from renamed
    qualify row_number() over (partition by imei, fixed_at order by heartbeat_at desc nulls last) = 1

)

select * from deduplicated
