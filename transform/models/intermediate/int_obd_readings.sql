{#-
    One row per device and reading time: the polled `jimi.device.obd.list` readings and the pushed `/pushobd`
    readings decoded to scalars with units and unified. Both paths carry the same reading with the same
    device time (`dataReportTime` = `obdJson.event_time`), so they are joined on (imei, reported_at) exactly.
    Where both have a value the polled one wins (sent with a decimal, where the push rounds to integers);
    values only the push carries (ACC, engine load, throttle, intake pressure, position) come from it.
-#}
with

poll as (

    select * from {{ ref('stg_jimi__obd_readings') }}

),

push as (

    select * from {{ ref('stg_jimi_push__obd_readings') }}

),

poll_decoded as (

    select
        *,
        -- `vehicleBatterVoltage` is documented by example only ("118", read as 0.1 V units: 11.8 V), and
        -- devices send volts or millivolts too. No vehicle system runs below 5 V or above 50 V, so the
        -- magnitude tells the unit.
        case
            when battery_voltage_raw is null or battery_voltage_raw <= 0 then null
            when battery_voltage_raw >= 1000 then battery_voltage_raw / 1000.0
            when battery_voltage_raw >= 50 then battery_voltage_raw / 10.0
            else battery_voltage_raw
        end as battery_voltage_v

    from poll

),

unified as (

    select
        coalesce(poll_decoded.imei, push.imei) as imei,
        coalesce(poll_decoded.reported_at, push.reported_at) as reading_at,
        case
            when poll_decoded.imei is not null and push.imei is not null then 'both'
            when poll_decoded.imei is not null then 'poll'
            else 'push'
        end as source,
        push.is_acc_on,
        push.lat,
        push.lng,
        coalesce(poll_decoded.speed_kmh, push.speed_kmh) as speed_kmh,
        coalesce(poll_decoded.engine_rpm, push.engine_rpm) as engine_rpm,
        coalesce(poll_decoded.coolant_temp_c, push.coolant_temp_c) as coolant_temp_c,
        coalesce(poll_decoded.fuel_remaining_pct, push.fuel_level_pct) as fuel_level_pct,
        coalesce(poll_decoded.fuel_remaining_l, push.fuel_remaining_l) as fuel_remaining_l,
        push.engine_load_pct,
        push.throttle_pct,
        push.intake_pressure_kpa,
        round(coalesce(poll_decoded.battery_voltage_v, push.battery_voltage_v), 3) as battery_voltage_v,
        coalesce(poll_decoded.odometer_km, push.odometer_km) as odometer_km,
        coalesce(poll_decoded.device_mileage_km, push.device_mileage_km) as device_mileage_km,
        poll_decoded.vin,
        push.car_type,
        push.status_flags

    from poll_decoded
    full outer join push
        on poll_decoded.imei = push.imei
        and poll_decoded.reported_at = push.reported_at

)

select * from unified
