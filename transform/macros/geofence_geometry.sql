{#-
    Geofence geometry in plain SQL (the spatial extension is not available offline).

    point_in_circle: inside when the haversine distance from the centre is at most the radius (metres).
    point_in_polygon: even-odd ray casting on (lat, lng) as plane coordinates (fences are a few km at most, so
    the distortion is negligible): a horizontal ray from the point towards larger longitudes crosses the
    ring's edges an odd number of times when the point is inside. `points` is a LIST(STRUCT(lat, lng)) in
    ring order, implicitly closed (vertex n joins vertex 1). Each edge counts with the half-open rule
    (one end strictly above the point's latitude, the other not), so a ray through a vertex counts once where
    the ring passes through it and zero or twice where the vertex is a local extreme; horizontal edges never
    count. Points exactly on an edge may fall either way.
-#}
{% macro point_in_circle(lat, lng, center_lat, center_lng, radius_m) -%}
    ({{ haversine_km(center_lat, center_lng, lat, lng) }} * 1000.0 <= ({{ radius_m }}))
{%- endmacro %}

{% macro point_in_polygon(lat, lng, points) -%}
    (list_sum(list_transform(
        range(1, len({{ points }}) + 1),
        lambda i: case
            when ({{ points }}[i].lat > ({{ lat }})) <> ({{ points }}[i % len({{ points }}) + 1].lat > ({{ lat }}))
                and ({{ lng }}) < {{ points }}[i].lng
                    + (({{ lat }}) - {{ points }}[i].lat)
                    * ({{ points }}[i % len({{ points }}) + 1].lng - {{ points }}[i].lng)
                    / ({{ points }}[i % len({{ points }}) + 1].lat - {{ points }}[i].lat)
            then 1 else 0
        end
    )) % 2 = 1)
{%- endmacro %}
