-- One row per device and command template it supports (`jimi.open.instruction.list`), as of the last load.
with

source as (

    {{ source_or_empty('jimi', 'command_templates') }}

)

select imei, template_id, template_name, template_content, template_explain, template_help, supports_offline
from source
