with

source as (

    select * from {{ source_or_empty('jimi_push', 'heartbeats') }}

),

renamed as (

    select
        imei,
        gate_time as heartbeat_at,
        received_at,
        battery_pct,
        gsm_signal_pct,
        voltage_v,
        temperature_c,
        acc_on as is_ignition_on,
        fuel_cut as is_fuel_cut,
        gps_fixed as is_gps_fixed,
        remote_locked as is_remote_locked,
        charging as is_charging,
        armed as is_armed,
        status_word

    from source
    where imei is not null and gate_time is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, heartbeat_at order by received_at desc nulls last) = 1

)

select * from deduplicated
