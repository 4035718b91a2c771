-- One row per device and command template it supports (`jimi.open.instruction.list`), as of the last load.
with

source as (

    {{ source_or_empty('jimi', 'command_templates', {
        'imei': 'varchar', 'template_id': 'varchar', 'template_name': 'varchar', 'template_content': 'varchar',
        'template_explain': 'varchar', 'template_help': 'varchar', 'supports_offline': 'boolean'
    }) }}

)

select imei, template_id, template_name, template_content, template_explain, template_help, supports_offline
from source
