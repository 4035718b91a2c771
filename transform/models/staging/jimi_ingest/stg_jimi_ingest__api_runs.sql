with

source as (

    select * from {{ source_or_empty('jimi_ingest', 'api_runs') }}

),

renamed as (

    select
        run_resource_id,
        run_id,
        resource,
        mode,
        started_at,
        finished_at,
        status,
        error,
        coalesce(calls, 0) as calls,
        coalesce(retries, 0) as retries,
        coalesce(rows_loaded, 0) as rows_loaded,
        rows_by_table_json,
        load_ids_json

    from source

)

select * from renamed
