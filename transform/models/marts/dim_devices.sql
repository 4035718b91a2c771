with

devices as (

    select * from {{ ref('stg_jimi__devices') }}

),

groups as (

    select * from {{ ref('stg_jimi__device_groups') }}

),

polled_alarms as (

    select imei from {{ ref('stg_jimi__alarms') }}

),

pushed_alarms as (

    select imei from {{ ref('stg_jimi_push__alarms') }}

),

polled_obd as (

    select imei from {{ ref('stg_jimi__obd_readings') }}

),

pushed_obd as (

    select imei from {{ ref('stg_jimi_push__obd_readings') }}

),

polled_faults as (

    select imei from {{ ref('stg_jimi__obd_faults') }}

),

pushed_faults as (

    select imei from {{ ref('stg_jimi_push__fault_codes') }}

),

position_days as (

    select imei from {{ ref('int_position_days') }}

),

polled_trips as (

    select imei from {{ ref('stg_jimi__trips') }}

),

pushed_trips as (

    select imei from {{ ref('stg_jimi_push__trip_reports') }}

),

polled_parking as (

    select imei from {{ ref('stg_jimi__parking') }}

),

listed as (

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
        true as is_listed,
        devices.is_enabled,
        devices.expires_at,
        devices.activated_at,
        devices.source_account

    from devices
    left join groups on devices.group_id = groups.group_id

),

seen as (

    select imei from polled_alarms
    union
    select imei from pushed_alarms
    union
    select imei from polled_obd
    union
    select imei from pushed_obd
    union
    select imei from polled_faults
    union
    select imei from pushed_faults
    union
    select imei from position_days
    union
    select imei from polled_trips
    union
    select imei from pushed_trips
    union
    select imei from polled_parking

),

unlisted as (

    -- Pushes (and rarely polls) can name a device the account's device list does not have (yet): added
    -- after the last daily device poll, or moved to another account. It still gets a row, so every fact
    -- (positions, trips, stops, alarms, OBD, DTCs) keeps its device, named by its IMEI until the list
    -- knows it.
    select
        seen.imei,
        seen.imei as device_name,
        null::varchar as model,
        null::varchar as vehicle_name,
        null::varchar as vehicle_number,
        null::varchar as vehicle_model,
        null::varchar as vehicle_icon,
        null::varchar as vin,
        null::varchar as driver_name,
        null::varchar as driver_phone,
        null::varchar as group_id,
        null::varchar as group_name,
        false as is_listed,
        null::boolean as is_enabled,
        null::timestamptz as expires_at,
        null::timestamptz as activated_at,
        -- A push names no account.
        null::varchar as source_account

    from seen
    anti join listed on seen.imei = listed.imei

),

final as (

    select * from listed
    union all
    select * from unlisted

)

select * from final
