-- One row per (platform geofence, bound device), from each fence's `imeis`; replaced on every load.
with

source as (

    {{ source_or_empty('jimi', 'geofence_devices') }}

)

select fence_id, imei, alert_types from source
