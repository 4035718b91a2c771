with

source as (

    {{ source_or_empty('jimi', 'obd_readings') }}

),

renamed as (

    select
        imei,
        report_time as reported_at,
        odometer_km,
        device_mileage_km,
        fuel_remaining_l,
        fuel_remaining_pct,
        coolant_temp_c,
        -- `vehicleBatterVoltage` exactly as sent; its unit is decided in int_obd_readings (discrepancy: 0.1 V
        -- units per the spec example "118", but volts and millivolts occur).
        battery_voltage_raw,
        engine_rpm,
        speed_kmh,
        nullif(trim(vin), '') as vin

    from source
    where imei is not null and report_time is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, reported_at order by odometer_km desc nulls last) = 1

)

select * from deduplicated
