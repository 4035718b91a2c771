with

batches as (

    select * from {{ ref('stg_jimi_ingest__push_batches') }}

),

final as (

    select
        push_batch_id,
        run_id,
        batch,
        started_at,
        finished_at,
        date_diff('millisecond', started_at, finished_at) / 1000.0 as duration_s,
        cast(started_at at time zone 'UTC' as date) as started_date,
        status,
        error,
        files_loaded,
        files_already_loaded,
        files_quarantined,
        quarantined_json,
        items,
        items_to_other_pushes,
        rows_loaded,
        rows_by_table_json

    from batches

)

select * from final
