-- One row per command sent to a device (device + send time + template): what was sent, by whom, and its
-- outcome (status moves from pending to executed/failed/cancelled; the raw table is merged, so it follows).
with

source as (

    {{ source_or_empty('jimi', 'command_results', {
        'imei': 'varchar', 'send_time': 'timestamptz', 'template_id': 'varchar', 'command_name': 'varchar',
        'command_text': 'varchar', 'reply_content': 'varchar', 'status_code': 'smallint', 'status': 'varchar',
        'is_executed': 'boolean', 'is_offline': 'boolean', 'sender': 'varchar'
    }) }}

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
