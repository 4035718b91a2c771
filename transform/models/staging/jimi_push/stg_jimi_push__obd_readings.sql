with

source as (

    {{ source_or_empty('jimi_push', 'obd_readings') }}

),

renamed as (

    select
        imei,
        event_time as reported_at,
        push_time as pushed_at,
        gate_time as gate_at,
        car_type,
        acc_on as is_acc_on,
        status_flags,
        lat,
        lng,
        engine_rpm,
        speed_kmh,
        coolant_temp_c,
        fuel_level_pct,
        fuel_remaining_l,
        engine_load_pct,
        throttle_pct,
        intake_pressure_kpa,
        odometer_km,
        device_mileage_km,
        -- Already in volts: the loader reads PID 66 in V or mV, or `vehicleBatterVoltage` in 0.1 V.
        battery_voltage_v,
        obd_json,
        received_at

    from source
    where imei is not null and event_time is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, reported_at order by received_at desc nulls last) = 1

)

select * from deduplicated
