with

devices as (

    select * from {{ ref('stg_jimi__devices') }}

),

final as (

    select
        imei,
        coalesce(nullif(device_name, ''), imei) as device_name,
        model,
        vehicle_name,
        vehicle_number,
        vehicle_icon,
        driver_name,
        group_name,
        is_enabled,
        expires_at,
        activated_at

    from devices

)

select * from final
