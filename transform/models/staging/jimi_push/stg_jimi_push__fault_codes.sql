with

source as (

    -- Absent until the first DTC is pushed: source_or_empty then yields no rows with these types.
    {{ source_or_empty('jimi_push', 'fault_codes') }}

),

renamed as (

    select
        imei,
        -- `eventTime` (Unix seconds) when sent, else gateTime: decoded by the loader.
        event_time as fault_at,
        upper(trim(fault_code)) as fault_code,
        fault_count,
        status_flags,
        gate_time as gate_at,
        lat,
        lng,
        received_at

    from source
    where imei is not null and event_time is not null and nullif(trim(fault_code), '') is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, fault_at, fault_code order by received_at desc nulls last) = 1

)

select * from deduplicated
