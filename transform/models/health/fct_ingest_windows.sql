with

windows as (

    select * from {{ ref('stg_jimi_ingest__api_windows') }}

),

runs as (

    select run_id, resource, mode from {{ ref('stg_jimi_ingest__api_runs') }}

),

final as (

    select
        windows.window_id,
        windows.run_id,
        windows.resource,
        windows.method,
        runs.mode as run_mode,
        windows.window_start,
        windows.window_end,
        date_diff('second', windows.window_start, windows.window_end) / 86400.0 as window_days,
        windows.imei,
        windows.imeis,
        windows.device_count,
        windows.calls,
        windows.errors,
        case when windows.calls > 0 then windows.errors::double / windows.calls end as error_share,
        windows.retries_1006,
        windows.retries_1004,
        windows.retries_minus1,
        windows.retries_1005,
        windows.retries_http,
        windows.retries_timeout,
        windows.retries_connection,
        windows.retries_bad_body,
        windows.retries_1006 + windows.retries_1004 + windows.retries_minus1 + windows.retries_1005
            + windows.retries_http + windows.retries_timeout + windows.retries_connection
            + windows.retries_bad_body as retries_total,
        windows.rows_returned,
        windows.rows_loaded,
        windows.latency_p50_ms,
        windows.latency_p95_ms,
        windows.latency_max_ms,
        windows.peak_calls_per_s,
        windows.peak_calls_per_min,
        windows.started_at,
        windows.finished_at,
        date_diff('millisecond', windows.started_at, windows.finished_at) / 1000.0 as duration_s,
        cast(windows.started_at at time zone 'UTC' as date) as started_date,
        windows.status,
        windows.error,
        windows.run_status

    from windows
    left join runs
        on windows.run_id = runs.run_id
        and windows.resource = runs.resource

)

select * from final
