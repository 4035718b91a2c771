with

windows as (

    select * from {{ ref('fct_ingest_windows') }}

),

limits as (

    -- The seed; without it (a `dbt run` loads no seeds) the limits are unknown, not an error.
    select * from {{ ref_or_empty('api_method_limits') }}

),

daily as (

    select
        started_date as usage_date,
        method,
        count(*) as windows,
        count(*) filter (where status = 'failed') as failed_windows,
        count(distinct run_id) as runs,
        sum(calls) as calls,
        sum(errors) as errors,
        sum(retries_1006) as retries_1006,
        sum(retries_1004) as retries_1004,
        sum(retries_minus1) as retries_minus1,
        sum(retries_1005) as retries_1005,
        sum(retries_http) as retries_http,
        sum(retries_timeout) as retries_timeout,
        sum(retries_connection) as retries_connection,
        sum(retries_bad_body) as retries_bad_body,
        sum(retries_total) as retries_total,
        sum(rows_returned) as rows_returned,
        sum(rows_loaded) as rows_loaded,
        max(latency_max_ms) as latency_max_ms,
        max(latency_p95_ms) as worst_window_latency_p95_ms,
        max(peak_calls_per_s) as peak_calls_per_s,
        max(peak_calls_per_min) as peak_calls_per_min,
        max(device_count) as max_devices_per_window,
        max(window_days) as max_window_days_asked,
        max(rows_returned) as max_rows_per_window

    from windows
    group by 1, 2

),

final as (

    select
        daily.method || '_' || strftime(daily.usage_date, '%Y-%m-%d') as api_usage_id,
        daily.*,
        case when daily.calls > 0 then daily.errors::double / daily.calls end as error_share,
        case when daily.calls > 0 then daily.retries_1006::double / daily.calls end as rate_limited_share,
        limits.max_calls_per_min,
        limits.max_imeis_per_call,
        limits.max_window_days,
        limits.max_rows_per_query,
        coalesce(daily.peak_calls_per_min > limits.max_calls_per_min, false) as exceeds_calls_per_min,
        coalesce(daily.max_devices_per_window > limits.max_imeis_per_call, false) as exceeds_imeis_per_call,
        coalesce(daily.max_window_days_asked > limits.max_window_days, false) as exceeds_window_days,
        -- A window that came back with exactly the cap may have been cut short by the API.
        coalesce(daily.max_rows_per_window >= limits.max_rows_per_query, false) as reached_row_cap

    from daily
    left join limits
        on daily.method = limits.method

)

select * from final
