{#- Two device events (rows with imei, started_at, ended_at) overlap: the same device, and each starts
    before the other ends (events that only touch do not overlap). -#}
{% macro overlaps(left, right) -%}
    {{ left }}.imei = {{ right }}.imei
        and {{ left }}.started_at < {{ right }}.ended_at
        and {{ right }}.started_at < {{ left }}.ended_at
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
