{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='reading_id',
        on_schema_change='fail'
    )
}}
{#-
    Incremental without a load marker (the polled raw table has none and a reading may arrive days late):
    a reading's key never disappears and its values do not change once loaded, only its source can grow from
    one path to both, so each run writes exactly the readings whose (key, source) the table does not hold
    yet — the table always equals a full rebuild, at the cost of a key anti-join.
-#}
with

readings as (

    select * from {{ ref('int_obd_readings') }}

),

final as (

    select
        imei || '_' || strftime(timezone('UTC', reading_at), '%Y-%m-%dT%H:%M:%S') as reading_id,
        imei,
        reading_at,
        cast(timezone('UTC', reading_at) as date) as reading_date,
        source,
        is_acc_on,
        lat,
        lng,
        speed_kmh,
        engine_rpm,
        coolant_temp_c,
        fuel_level_pct,
        fuel_remaining_l,
        engine_load_pct,
        throttle_pct,
        intake_pressure_kpa,
        battery_voltage_v,
        odometer_km,
        device_mileage_km,
        vin,
        car_type,
        status_flags

    from readings

)

select * from final

{% if is_incremental() %}
where not exists (
    select 1
    from {{ this }} as existing
    where existing.reading_id = final.reading_id and existing.source = final.source
)
{% endif %}
