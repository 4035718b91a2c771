with

source as (

    select * from {{ source('jimi', 'devices') }}

),

renamed as (

    select
        imei,
        device_name,
        model,
        vehicle_name,
        vehicle_number,
        vehicle_icon,
        driver_name,
        group_id,
        group_name,
        coalesce(enabled, true) as is_enabled,
        expires_at,
        activated_at

    from source

)

select * from renamed
