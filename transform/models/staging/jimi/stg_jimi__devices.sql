with

source as (

    select * from {{ source_or_empty('jimi', 'devices') }}

),

renamed as (

    select
        imei,
        device_name,
        model,
        nullif(trim(vehicle_name), '') as vehicle_name,
        nullif(trim(vehicle_number), '') as vehicle_number,
        nullif(trim(vehicle_model), '') as vehicle_model,
        vehicle_icon,
        -- `vin` from the detail call, else the frame number the device list carries.
        coalesce(nullif(trim(vin), ''), nullif(trim(car_frame), '')) as vin,
        nullif(trim(driver_name), '') as driver_name,
        nullif(trim(driver_phone), '') as driver_phone,
        nullif(trim(group_id), '') as group_id,
        nullif(trim(group_name), '') as group_name,
        coalesce(enabled, true) as is_enabled,
        expires_at,
        activated_at,
        -- The Jimi account the device list was read from (`user@base_url`, never a secret).
        source_account

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei order by activated_at desc nulls last) = 1

)

select * from deduplicated
