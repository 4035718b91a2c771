{#- Great-circle distance in km between two WGS-84 points (mean Earth radius 6371.0088 km). -#}
{% macro haversine_km(lat1, lng1, lat2, lng2) -%}
    2 * 6371.0088 * asin(sqrt(
        pow(sin(radians(({{ lat2 }}) - ({{ lat1 }})) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
        * pow(sin(radians(({{ lng2 }}) - ({{ lng1 }})) / 2), 2)
    ))
{%- endmacro %}
