"""SQL expressions for the API's fields that arrive in more than one spelling, shared by every shape.

Each function takes the raw field's SQL (`r.<apiField>`) and returns the expression of its column. The
spellings are the ones docs/jimi-api.md#units-and-field-spellings records; the common ones are matched first, because case-folding
every row cost several percent of a track answer's decode.

Times in `yyyy-MM-dd HH:mm:ss` text are UTC and read as a plain TIMESTAMP: `decode()` marks every timestamp
column UTC in Arrow, which changes metadata only (`timezone('UTC', …)` per row cost ~8 % of a decode).
"""

from __future__ import annotations

# ACC / ignition: "ON"/"OFF" (track), "1"/"0" (location), "on"/"off" (parking).
_ON_ANY = "case upper(trim({0})) when 'ON' then true when '1' then true when 'OFF' then false when '0' then false end"
_ON = (
    "case {0} when 'ON' then true when 'OFF' then false when '1' then true when '0' then false "
    f"else {_ON_ANY} end"
)
# posType: 1/2/3 (track) or GPS/LBS/WIFI/BEACON (location).
_POS_ANY = (
    "coalesce(try_cast({0} as smallint), case upper({0}) when 'GPS' then 1 when 'LBS' then 2 "
    "when 'WIFI' then 3 when 'BEACON' then 4 end)"
)
_POS = (
    "case {0} when '1' then 1 when '2' then 2 when '3' then 3 when 'GPS' then 1 when 'LBS' then 2 "
    f"when 'WIFI' then 3 else {_POS_ANY} end::smallint"
)
# Times that arrive as Unix seconds (the vendor spec's media and TAG methods) or as text: numbers are epoch
# seconds, text is UTC.
_EPOCH_OR_TEXT = (
    "case when regexp_full_match(trim({0}), '[0-9]+(\\.0+)?') then to_timestamp(trim({0})::double::bigint) "
    "else timezone('UTC', try_cast(trim({0}) as timestamp)) end"
)
# positionType of the TAG method: codes 1 GPS, 2 LBS, 3 WIFI, 5 BEACON, or the same as words. (The
# location methods' posType gives BEACON 4; the TAG section of the vendor spec numbers it 5, kept here.)
_TAG_POS = (
    "coalesce(try_cast({0} as smallint), case upper({0}) when 'GPS' then 1 when 'LBS' then 2 "
    "when 'WIFI' then 3 when 'BEACON' then 5 end)::smallint"
)


def on(field: str) -> str:
    """A boolean from any of the API's ACC / ignition spellings."""
    return _ON.format(field)


def pos_type(field: str) -> str:
    """The fix source (1 GPS, 2 LBS, 3 WIFI, 4 BEACON) from a number or a word."""
    return _POS.format(field)


def known(field: str) -> str:
    """The value, or null for -1 (the API's "unknown" for speeds and directions)."""
    return f"case when {field} >= 0 then {field} end"


def epoch_or_text(field: str) -> str:
    """A UTC timestamp from Unix seconds or from `yyyy-MM-dd HH:mm:ss` text."""
    return _EPOCH_OR_TEXT.format(field)


def tag_pos_type(field: str) -> str:
    return _TAG_POS.format(field)


def media_kind(media_type: str, mime_type: str) -> str:
    """photo/video from the numeric media_type when sent, else from the MIME type (one document sends no type)."""
    return (
        f"case when {media_type} = '1' or {mime_type} like 'image/%' then 'photo' "
        f"when {media_type} = '2' or {mime_type} like 'video/%' then 'video' end"
    )


def flag(field: str) -> str:
    """isOffLine / isExecute flags: "0"/"1" strings (vendor spec) or JSON booleans, read as text."""
    return f"case lower(trim({field})) when '1' then true when 'true' then true when '0' then false when 'false' then false end"
