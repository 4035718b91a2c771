{{
    config(
        materialized='incremental',
        incremental_strategy='replace_tail',
        replace_tail_order='fixed_at',
        on_schema_change='fail'
    )
}}

{#-
    Incremental runs: a fix key (imei + fixed_at) one of the three sources has that the table has not seen
    from that source is new. Only fixes from positions_lookback_days before the table's newest fix are
    compared (late fixes arrive within a week; a backfill of older days needs --full-refresh). For each
    device with new keys, everything from the last precise fix before its earliest new key onward is
    re-derived (that fix's jump flag looks ahead to its next fix, which may be the new one); the
    replace_tail strategy swaps that tail in. Tail rows older than the compared range come from the table
    itself (nothing new arrived there), and the two fixes before the tail as context.
-#}

{%- set scan_from = "timestamptz '-infinity'" -%}
{%- if is_incremental() and var('positions_lookback_days') is not none and execute -%}
    {%- set newest = run_query("select cast(max(fixed_at) as varchar) from " ~ this).columns[0].values()[0] -%}
    {%- if newest is not none -%}
        {%- set scan_from = "timestamptz '" ~ newest ~ "' - interval " ~ var('positions_lookback_days') ~ " day" -%}
    {%- endif -%}
{%- endif %}

with

track_points as (

    select * from {{ ref('stg_jimi__track_points') }}

),

push_fixes as (

    select * from {{ ref('stg_jimi_push__gps_fixes') }}

),

sweeps as (

    select * from {{ ref('stg_jimi__live_locations') }}

),

unioned as (

    -- Preference when two sources hold the same fix: the platform's stored track (re-read and merged
    -- on every poll, so it is the reconciled record), then the push (real time, same device packet),
    -- then the sweep (a snapshot of the latest fix, fewest fields).
    select
        imei, fixed_at, lat, lng, speed_kmh, direction_deg, pos_type, satellites, altitude_m,
        is_ignition_on, 'track_list' as source, 1 as source_rank
    from track_points

    union all

    select
        imei, fixed_at, lat, lng, speed_kmh, direction_deg, pos_type, satellites, altitude_m,
        is_ignition_on, 'push_gps' as source, 2 as source_rank
    from push_fixes

    union all

    select
        imei, fixed_at, lat, lng, speed_kmh, direction_deg, pos_type, satellites,
        cast(null as double) as altitude_m, is_ignition_on, 'sweep' as source, 3 as source_rank
    from sweeps
    where lat is not null

),

{% if is_incremental() %}

recent as (

    -- A constant bound, so DuckDB prunes the scans (through the staging views) to the recent fixes.
    select * from unioned
    where fixed_at >= {{ scan_from }}

),

new_keys as (

    select recent.imei, recent.fixed_at
    from recent
    anti join (
        select imei, fixed_at, seen_in
        from {{ this }}
        where fixed_at >= {{ scan_from }}
    ) as seen
        on recent.imei = seen.imei
        and recent.fixed_at = seen.fixed_at
        and list_contains(seen.seen_in, recent.source)

),

earliest_new as (

    select imei, min(fixed_at) as first_new_at
    from new_keys
    group by imei

),

tail_starts as (

    -- The last precise fix before the first new key: its jump flag may change with its new neighbour.
    select
        earliest_new.imei,
        coalesce(max(existing.fixed_at), earliest_new.first_new_at) as replace_from

    from earliest_new
    left join {{ this }} as existing
        on existing.imei = earliest_new.imei
        and existing.fixed_at < earliest_new.first_new_at
        and existing.is_precise
    group by earliest_new.imei, earliest_new.first_new_at

),

candidates as (

    select recent.*
    from recent
    inner join tail_starts
        on recent.imei = tail_starts.imei
        and recent.fixed_at >= tail_starts.replace_from

),

{% else %}

candidates as (

    select * from unioned

),

{% endif %}

deduplicated as (

    select
        *,
        list(source) over same_fix as seen_in_list

    from candidates
    window same_fix as (partition by imei, fixed_at)
    qualify row_number() over (partition by imei, fixed_at order by source_rank) = 1

),

typed as (

    select
        imei,
        fixed_at,
        source,
        list_sort(list_distinct(seen_in_list)) as seen_in,
        lat,
        lng,
        speed_kmh,
        direction_deg,
        pos_type,
        satellites,
        altitude_m,
        is_ignition_on,
        -- Cell-tower and Wi-Fi fixes are hundreds of metres off: kept for presence, never for geometry.
        coalesce(pos_type, 1) = 1 as is_precise,
        false as is_context

    from deduplicated

),

{% if is_incremental() %}

kept_tail as (

    -- Tail fixes older than the compared range: unchanged in the sources, so taken as they are.
    select
        existing.imei,
        existing.fixed_at,
        existing.source,
        existing.seen_in,
        existing.lat,
        existing.lng,
        existing.speed_kmh,
        existing.direction_deg,
        existing.pos_type,
        existing.satellites,
        existing.altitude_m,
        existing.is_ignition_on,
        existing.is_precise,
        false as is_context

    from {{ this }} as existing
    inner join tail_starts
        on existing.imei = tail_starts.imei
        and existing.fixed_at >= tail_starts.replace_from
        and existing.fixed_at < {{ scan_from }}

),

context as (

    -- The table's last precise fix before each tail: the previous point of the tail's first fix.
    select
        existing.imei,
        existing.fixed_at,
        existing.source,
        existing.seen_in,
        existing.lat,
        existing.lng,
        existing.speed_kmh,
        existing.direction_deg,
        existing.pos_type,
        existing.satellites,
        existing.altitude_m,
        existing.is_ignition_on,
        existing.is_precise,
        true as is_context

    from {{ this }} as existing
    inner join tail_starts
        on existing.imei = tail_starts.imei
        and existing.fixed_at < tail_starts.replace_from
        and existing.is_precise
    -- Two of them: the newest fix is judged against the last two before it.
    qualify row_number() over (partition by existing.imei order by existing.fixed_at desc) <= 2

),

with_context as (

    select * from typed
    union all
    select * from kept_tail
    union all
    select * from context

),

{% else %}

with_context as (

    select * from typed

),

{% endif %}

precise_neighbours as (

    select
        imei,
        fixed_at,
        lag(fixed_at) over by_device as previous_fixed_at,
        lag(lat) over by_device as previous_lat,
        lag(lng) over by_device as previous_lng,
        lag(fixed_at, 2) over by_device as second_previous_fixed_at,
        lag(lat, 2) over by_device as second_previous_lat,
        lag(lng, 2) over by_device as second_previous_lng,
        lead(fixed_at) over by_device as next_fixed_at,
        lead(lat) over by_device as next_lat,
        lead(lng) over by_device as next_lng

    from with_context
    where is_precise
    window by_device as (partition by imei order by fixed_at)

),

jump_tested as (

    select
        imei,
        fixed_at,
        {{ haversine_km('previous_lat', 'previous_lng', 'lat', 'lng') }} as from_previous_km,
        date_diff('second', previous_fixed_at, fixed_at) as from_previous_s,
        {{ haversine_km('second_previous_lat', 'second_previous_lng', 'lat', 'lng') }} as from_second_previous_km,
        date_diff('second', second_previous_fixed_at, fixed_at) as from_second_previous_s,
        {{ haversine_km('lat', 'lng', 'next_lat', 'next_lng') }} as to_next_km,
        date_diff('second', fixed_at, next_fixed_at) as to_next_s

    from precise_neighbours
    inner join with_context using (imei, fixed_at)

),

jump_flags as (

    -- A jump is a spike: reached too fast from the previous fix and left too fast to the next one. The
    -- newest fix, with no next yet, must also be too far from the fix before the previous one (else the
    -- previous one was the spike). The fix after a spike is not a jump.
    select
        imei,
        fixed_at,
        coalesce(
            from_previous_km > {{ var('max_plausible_speed_kmh') }} * greatest(from_previous_s, 1) / 3600.0
            and coalesce(
                to_next_km > {{ var('max_plausible_speed_kmh') }} * greatest(to_next_s, 1) / 3600.0,
                from_second_previous_km
                    > {{ var('max_plausible_speed_kmh') }} * greatest(from_second_previous_s, 1) / 3600.0,
                true
            ),
            false
        ) as is_gps_jump

    from jump_tested

),

flagged as (

    select
        with_context.*,
        coalesce(jump_flags.is_gps_jump, false) as is_gps_jump

    from with_context
    left join jump_flags using (imei, fixed_at)

),

usable_segments as (

    -- Segments join consecutive usable fixes (precise, not jumps): jumps and cell fixes are skipped over.
    select
        imei,
        fixed_at,
        lag(fixed_at) over by_device as previous_fixed_at,
        {{ haversine_km('lag(lat) over by_device', 'lag(lng) over by_device', 'lat', 'lng') }} as segment_km

    from flagged
    where is_precise and not is_gps_jump
    window by_device as (partition by imei order by fixed_at)

),

final as (

    select
        flagged.imei || '_' || cast(epoch(flagged.fixed_at) as bigint) as position_id,
        flagged.imei,
        flagged.fixed_at,
        cast(timezone('UTC', flagged.fixed_at) as date) as fix_date,
        flagged.source,
        flagged.seen_in,
        flagged.lat,
        flagged.lng,
        flagged.speed_kmh,
        flagged.direction_deg,
        flagged.pos_type,
        flagged.satellites,
        flagged.altitude_m,
        flagged.is_ignition_on,
        flagged.is_precise,
        flagged.is_gps_jump,
        usable_segments.previous_fixed_at,
        round(usable_segments.segment_km, 6) as segment_km,
        date_diff('second', usable_segments.previous_fixed_at, flagged.fixed_at) as segment_s,
        cast(timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamptz) as batch_at

    from flagged
    left join usable_segments using (imei, fixed_at)
    where not flagged.is_context

)

select * from final
