with

source as (

    -- Absent until the first DTC is polled: source_or_empty then yields no rows with these types.
    {{ source_or_empty('jimi', 'obd_faults') }}

),

renamed as (

    select
        imei,
        event_time as fault_at,
        upper(trim(fault_code)) as fault_code,
        nullif(trim(fault_detail), '') as fault_detail,
        device_name

    from source
    where imei is not null and event_time is not null and nullif(trim(fault_code), '') is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, fault_at, fault_code order by fault_detail nulls last) = 1

)

select * from deduplicated
