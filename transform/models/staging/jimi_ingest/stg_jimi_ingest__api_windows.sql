with

source as (

    select * from {{ source_or_empty('jimi_ingest', 'api_windows') }}

),

renamed as (

    select
        window_id,
        run_id,
        resource,
        method,
        window_start,
        window_end,
        imei,
        imeis,
        coalesce(device_count, 0) as device_count,
        coalesce(calls, 0) as calls,
        coalesce(errors, 0) as errors,
        coalesce(retries_1006, 0) as retries_1006,
        coalesce(retries_1004, 0) as retries_1004,
        coalesce(retries_minus1, 0) as retries_minus1,
        coalesce(retries_1005, 0) as retries_1005,
        coalesce(retries_http, 0) as retries_http,
        coalesce(retries_timeout, 0) as retries_timeout,
        coalesce(retries_connection, 0) as retries_connection,
        coalesce(retries_bad_body, 0) as retries_bad_body,
        coalesce(rows_returned, 0) as rows_returned,
        coalesce(rows_loaded, 0) as rows_loaded,
        latency_p50_ms,
        latency_p95_ms,
        latency_max_ms,
        coalesce(peak_calls_per_s, 0) as peak_calls_per_s,
        coalesce(peak_calls_per_min, 0) as peak_calls_per_min,
        started_at,
        finished_at,
        status,
        error,
        run_status

    from source

)

select * from renamed
