with

source as (

    {{ source_or_empty('jimi', 'device_groups') }}

),

renamed as (

    select
        trim(group_id) as group_id,
        nullif(trim(group_name), '') as group_name

    from source
    where nullif(trim(group_id), '') is not null

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by group_id order by group_name nulls last) = 1

)

select * from deduplicated
