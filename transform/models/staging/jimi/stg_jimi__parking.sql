with

source as (

    select * from {{ source_or_empty('jimi', 'parking') }}

),

renamed as (

    select
        imei,
        start_time as started_at,
        end_time as ended_at,
        -- durSecond is end - start; stopSecond is documented ambiguously and kept beside it.
        duration_s,
        stop_seconds as stop_s,
        lat,
        lng,
        nullif(address, '') as address,
        acc_on as is_ignition_on,
        stop_kind

    from source
    where imei is not null and start_time is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by imei, started_at order by ended_at desc nulls last) = 1

)

select * from deduplicated
