-- One row per platform geofence as the account has it now (the raw table is replaced on every load, so a
-- fence deleted on the platform is gone). Geometry for SQL without the spatial extension:
-- circles: center_lat/center_lng + radius_m (haversine distance <= radius_m means inside);
-- polygons: polygon_points, a LIST of STRUCT(lat DOUBLE, lng DOUBLE) in the API's order (latitude first in
-- the API's `coordinates`; the ring is implicitly closed), for a ray-casting test. Both get a bounding box
-- (min/max lat/lng) to prefilter fixes cheaply.
with

source as (

    {{ source_or_empty('jimi', 'platform_geofences') }}

),

parsed as (

    select
        *,
        case when fence_type = 'polygon' then list_transform(
            list_filter(string_split(coordinates, ';'), lambda p: trim(p) <> ''),
            lambda p: {'lat': trim(split_part(p, ',', 1))::double, 'lng': trim(split_part(p, ',', 2))::double}
        ) end as polygon_points

    from source

),

renamed as (

    select
        fence_id,
        fence_name,
        fence_type,
        center_lat,
        center_lng,
        radius_m,
        polygon_points,
        len(polygon_points) as vertex_count,
        -- 111,195 m per degree of latitude (mean earth radius); longitude degrees shrink with cos(lat).
        coalesce(list_min(list_transform(polygon_points, lambda p: p.lat)), center_lat - radius_m / 111195.0) as min_lat,
        coalesce(list_max(list_transform(polygon_points, lambda p: p.lat)), center_lat + radius_m / 111195.0) as max_lat,
        coalesce(
            list_min(list_transform(polygon_points, lambda p: p.lng)),
            center_lng - radius_m / (111195.0 * cos(radians(center_lat)))
        ) as min_lng,
        coalesce(
            list_max(list_transform(polygon_points, lambda p: p.lng)),
            center_lng + radius_m / (111195.0 * cos(radians(center_lat)))
        ) as max_lng,
        coordinates as coordinates_raw,
        fence_color,
        description,
        alert_types,
        stay_time_in_days,
        stay_time_out_days

    from parsed

)

select * from renamed
