{#-
    One row per usable fix (precise, not a GPS jump) and platform fence whose bounding box holds it, with
    whether the fix is inside the fence (circle: haversine distance <= radius; polygon: even-odd ray
    casting, macros/geofence_geometry.sql). Each row carries the device's previous and next usable fix, so a
    run of fixes inside can be closed by the first fix outside without testing every fix against every
    fence: a fix outside the bounding box is outside the fence.
-#}
with

positions as (

    select * from {{ ref('int_positions') }}

),

fences as (

    select * from {{ ref('stg_jimi__platform_geofences') }}

),

usable as (

    select
        imei,
        fixed_at,
        lat,
        lng,
        row_number() over by_device as fix_seq,
        lag(fixed_at) over by_device as previous_fixed_at,
        lead(fixed_at) over by_device as next_fixed_at,
        lead(lat) over by_device as next_lat,
        lead(lng) over by_device as next_lng

    from positions
    where is_precise and not is_gps_jump and lat is not null and lng is not null
    window by_device as (partition by imei order by fixed_at)

),

in_box as (

    select
        usable.*,
        fences.fence_id,
        fences.fence_type,
        fences.center_lat,
        fences.center_lng,
        fences.radius_m,
        fences.polygon_points

    from usable
    inner join fences
        on usable.lat between fences.min_lat and fences.max_lat
        and usable.lng between fences.min_lng and fences.max_lng

),

final as (

    select
        imei,
        fence_id,
        fixed_at,
        fix_seq,
        lat,
        lng,
        case fence_type
            when 'circle' then {{ point_in_circle('lat', 'lng', 'center_lat', 'center_lng', 'radius_m') }}
            when 'polygon' then coalesce({{ point_in_polygon('lat', 'lng', 'polygon_points') }}, false)
            else false
        end as is_inside,
        previous_fixed_at,
        next_fixed_at,
        next_lat,
        next_lng

    from in_box

)

select * from final
