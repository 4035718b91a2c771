with

source as (

    select * from {{ source_or_empty('jimi_ingest', 'push_batches') }}

),

renamed as (

    select
        push_batch_id,
        run_id,
        batch,
        started_at,
        finished_at,
        status,
        error,
        coalesce(files_loaded, 0) as files_loaded,
        coalesce(files_already_loaded, 0) as files_already_loaded,
        coalesce(files_quarantined, 0) as files_quarantined,
        quarantined_json,
        coalesce(items, 0) as items,
        coalesce(items_to_other_pushes, 0) as items_to_other_pushes,
        coalesce(rows_loaded, 0) as rows_loaded,
        rows_by_table_json

    from source

)

select * from renamed
