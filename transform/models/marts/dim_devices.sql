with

devices as (

    select * from {{ ref('stg_jimi__devices') }}

),

groups as (

    select * from {{ ref('stg_jimi__device_groups') }}

),

final as (

    select
        devices.imei,
        coalesce(nullif(devices.device_name, ''), devices.imei) as device_name,
        devices.model,
        devices.vehicle_name,
        devices.vehicle_number,
        devices.vehicle_model,
        devices.vehicle_icon,
        devices.vin,
        devices.driver_name,
        devices.driver_phone,
        devices.group_id,
        -- The group list is the authority on a group's name; the device list repeats it and may lag a rename.
        coalesce(groups.group_name, devices.group_name) as group_name,
        devices.is_enabled,
        devices.expires_at,
        devices.activated_at

    from devices
    left join groups on devices.group_id = groups.group_id

)

select * from final
