with

polled as (

    select * from {{ ref('stg_jimi__obd_faults') }}

),

pushed as (

    select * from {{ ref('stg_jimi_push__fault_codes') }}

),

dtc_codes as (

    select * from {{ ref('dtc_codes') }}

),

devices as (

    select * from {{ ref('dim_devices') }}

),

unified as (

    -- The same DTC occurrence reaches both paths with the same event time (`eventTime`), so they join exactly.
    select
        coalesce(polled.imei, pushed.imei) as imei,
        coalesce(polled.fault_at, pushed.fault_at) as fault_at,
        coalesce(polled.fault_code, pushed.fault_code) as fault_code,
        polled.fault_detail as reported_description,
        pushed.fault_count,
        pushed.lat,
        pushed.lng,
        case
            when polled.imei is not null and pushed.imei is not null then 'both'
            when polled.imei is not null then 'poll'
            else 'push'
        end as source

    from polled
    full outer join pushed
        on polled.imei = pushed.imei
        and polled.fault_at = pushed.fault_at
        and polled.fault_code = pushed.fault_code

),

final as (

    select
        md5(unified.imei || '|' || unified.fault_code || '|'
            || strftime(timezone('UTC', unified.fault_at), '%Y-%m-%d %H:%M:%S')) as fault_id,
        unified.imei,
        devices.device_name,
        unified.fault_at,
        cast(timezone('UTC', unified.fault_at) as date) as fault_date,
        unified.fault_code,
        -- SAE J2012: the first character names the system, the second whether the code is generic (0, and
        -- 2 for P, 3 for P3400+/U3000+ partly) or manufacturer-specific (1, and 3 otherwise).
        case left(unified.fault_code, 1)
            when 'P' then 'powertrain'
            when 'C' then 'chassis'
            when 'B' then 'body'
            when 'U' then 'network'
        end as dtc_system,
        substr(unified.fault_code, 2, 1) = '0'
            or (left(unified.fault_code, 1) = 'P' and substr(unified.fault_code, 2, 1) = '2') as is_generic_code,
        coalesce(dtc_codes.description, unified.reported_description) as description,
        dtc_codes.dtc_code is not null as is_described_by_seed,
        unified.reported_description,
        unified.fault_count,
        unified.lat,
        unified.lng,
        unified.source

    from unified
    left join dtc_codes on unified.fault_code = dtc_codes.dtc_code
    left join devices on unified.imei = devices.imei

)

select * from final
