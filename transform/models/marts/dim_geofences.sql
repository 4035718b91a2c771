{#- One row per platform geofence as the account has it now, with its geometry and bound devices. -#}
with

fences as (

    select * from {{ ref('stg_jimi__platform_geofences') }}

),

bindings as (

    select
        fence_id,
        count(distinct imei) as bound_device_count,
        list_sort(list(distinct imei)) as bound_imeis

    from {{ ref('stg_jimi__geofence_devices') }}
    group by fence_id

),

final as (

    select
        fences.fence_id,
        fences.fence_name,
        fences.fence_type,
        fences.center_lat,
        fences.center_lng,
        fences.radius_m,
        fences.polygon_points,
        fences.vertex_count,
        fences.min_lat,
        fences.max_lat,
        fences.min_lng,
        fences.max_lng,
        -- Circle: pi r^2. Polygon: the shoelace formula on a local plane (metres east and north of the
        -- bounding box's south-west corner; longitude degrees shrink with cos(latitude)).
        round(case
            when fences.fence_type = 'circle' then pi() * fences.radius_m * fences.radius_m
            else abs(list_sum(list_transform(
                range(1, fences.vertex_count + 1),
                lambda i: (fences.polygon_points[i].lng * fences.polygon_points[i % fences.vertex_count + 1].lat
                    - fences.polygon_points[i % fences.vertex_count + 1].lng * fences.polygon_points[i].lat)
            ))) / 2 * 111195.0 * 111195.0 * cos(radians((fences.min_lat + fences.max_lat) / 2))
        end, 1) as area_m2,
        fences.coordinates_raw,
        fences.alert_types,
        coalesce(list_contains(string_split(fences.alert_types, ','), 'in'), false) as alerts_on_enter,
        coalesce(list_contains(string_split(fences.alert_types, ','), 'out'), false) as alerts_on_exit,
        fences.stay_time_in_days,
        fences.stay_time_out_days,
        fences.fence_color,
        fences.description,
        coalesce(bindings.bound_device_count, 0) as bound_device_count,
        coalesce(bindings.bound_imeis, cast([] as varchar[])) as bound_imeis

    from fences
    left join bindings on fences.fence_id = bindings.fence_id

)

select * from final
