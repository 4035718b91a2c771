-- One row per command sent to a device (device + send time + template): what was sent, by whom, and its
-- outcome (status moves from pending to executed/failed/cancelled; the raw table is merged, so it follows).
with

source as (

    {{ source_or_empty('jimi', 'command_results') }}

),

renamed as (

    select
        imei,
        send_time as sent_at,
        template_id,
        command_name,
        command_text,
        reply_content,
        status,
        status_code,
        is_executed,
        is_offline,
        sender

    from source

)

select * from renamed
