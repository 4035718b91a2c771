{#- Two device events (rows with imei and a start and an end, `started_at` and `ended_at` unless named)
    overlap: the same device, and each starts before the other ends (events that only touch do not). -#}
{% macro overlaps(left, right, starts='started_at', ends='ended_at') -%}
    {{ left }}.imei = {{ right }}.imei
        and {{ left }}.{{ starts }} < {{ right }}.{{ ends }}
        and {{ right }}.{{ starts }} < {{ left }}.{{ ends }}
{%- endmacro %}


{#- True for a row of a report (`report`, a relation or CTE name in scope) that no row of any of `events`
    overlaps: what the report alone knows (report-only trips and stops). -#}
{% macro is_report_only(report, events) -%}
    {%- for events_relation in events %}
    {{ 'and ' if not loop.first }}not exists (
        select 1 from {{ events_relation }}
        where {{ overlaps(events_relation, report) }}
    )
    {%- endfor %}
{%- endmacro %}
