"""Constants of the Jimi open API: endpoints, method names, error codes, limits and timeouts.

What each constant says about the API is written down in docs/jimi-api.md. Per-resource choices (window
spans, lookbacks, cadences) live in the registry (`registry.py`), not here.
"""

from __future__ import annotations

from datetime import timedelta

# Regional nodes; each is the full interface URL, the method travels as a form field.
REGION_URLS = {
    "ts": "http://open.10000track.com/route/rest",
    "hk": "https://hk-open.tracksolidpro.com/route/rest",
    "eu": "https://eu-open.tracksolidpro.com/route/rest",
    "us": "https://us-open.tracksolidpro.com/route/rest",
}

TOKEN_GET = "jimi.oauth.token.get"
TOKEN_REFRESH = "jimi.oauth.token.refresh"
DEVICE_LIST = "jimi.user.device.list"
DEVICE_DETAIL = "jimi.track.device.detail"
GROUP_LIST = "jimi.device.group.list"
LOCATION_LIST = "jimi.user.device.location.list"
TRACK_LIST = "jimi.device.track.list"
TRACK_MILEAGE = "jimi.device.track.mileage"
PARKING = "jimi.open.platform.report.parking"
ALARM_LIST = "jimi.device.alarm.list"
OBD_LIST = "jimi.device.obd.list"
OBD_FAULT = "jimi.device.obd.fault"

# Error codes that arrive in the body of an HTTP 200 answer.
CODE_OK = 0
CODE_BUSY = -1
CODE_PARAMETER = 1001
CODE_ILLEGAL_DEVICE = 1002
CODE_TOKEN_INVALID = 1004
CODE_IP_LIMIT = 1005
CODE_TOO_FREQUENT = 1006

TOKEN_LIFETIME_S = 7200
# Refresh this long before the token's stated expiry, so no call goes out with a dying token.
TOKEN_RENEW_MARGIN_S = 300
# The API accepts token.get at most once a minute; stay a little above it.
TOKEN_GET_MIN_INTERVAL_S = 61

# track.list: one IMEI, at most 7 days per call, only the last 3 months (clients floor at 89 days).
TRACK_MAX_SPAN = timedelta(days=7)
TRACK_RETENTION = timedelta(days=89)
# The reports (mileage, parking, alarms, OBD) are refused further back than that too.
REPORT_RETENTION = TRACK_RETENTION
# How far back a device with no cursor yet starts.
TRACK_INITIAL_DAYS = 2
ALL_METHODS: tuple[str, ...] = (
    TOKEN_GET,
    TOKEN_REFRESH,
    DEVICE_LIST,
    DEVICE_DETAIL,
    GROUP_LIST,
    LOCATION_LIST,
    TRACK_LIST,
    TRACK_MILEAGE,
    PARKING,
    ALARM_LIST,
    OBD_LIST,
    OBD_FAULT,
)

# Batch endpoints: the spec allows 100 IMEIs, production saw 50 (docs/jimi-api.md #14): stay at 50.
IMEI_BATCH = 50
# alarm.list silently caps a window at 1000 rows; a window that returns the cap, or whose second page
# repeats the first (the page parameter ignored), is split in two.
ALARM_ROW_CAP = 1000
ALARM_MIN_SPLIT = timedelta(minutes=1)
PAGE_SIZE = 100
MILEAGE_PAGE_SIZE = 100
# The parking report is picky about start_row/page_size (docs/jimi-api.md #7): the combinations a production
# client falls back through, in order, when one is refused with 1001.
PARKING_PAGINGS = ((1, 100), (1, 50), (0, 100), (0, 50), (1, 10), (0, 10))
PARKING_MAX_PAGES = 50
# acc_type: spec says "off" parking / "on" idling, production needed "0" (docs/jimi-api.md #6).
PARKING_ACC_TYPES = (("off", "on"), ("0",))
# The nightly catch-up re-reads this many trailing days, for fixes that reach the API late.
CATCH_UP_DAYS = 7

# Seconds per call before the HTTP read gives up; track.list was seen taking ~137 s in production.
DEFAULT_TIMEOUT_S = 30.0
# The reports cover many devices and up to a month per call: give them time before calling it a hang.
METHOD_TIMEOUT_S = {
    TRACK_LIST: 300.0,
    TRACK_MILEAGE: 120.0,
    PARKING: 120.0,
    ALARM_LIST: 120.0,
    OBD_LIST: 120.0,
    OBD_FAULT: 120.0,
}

# -- media, platform geofences, TAG locations and commands (read-only methods) ----------------------------
MEDIA_URL = "jimi.device.jimi.media.URL"
MEDIA_EVENT_URL = "jimi.device.media.event.URL"
FENCE_LIST = "jimi.open.platform.fence.list"
TAG_LOCATION = "jimi.device.location.getTagMsg"
INSTRUCTION_LIST = "jimi.open.instruction.list"
INSTRUCTION_RESULT = "jimi.open.instruction.result"
ALL_METHODS += (MEDIA_URL, MEDIA_EVENT_URL, FENCE_LIST, TAG_LOCATION, INSTRUCTION_LIST, INSTRUCTION_RESULT)
# The media methods document no maximum page size: 50 per page.
MEDIA_PAGE_SIZE = 50
MEDIA_MAX_PAGES = 1000
# Request channels: 1 front, 2 inward (the catalogue answers 0/1, so the channel asked is what we keep);
# media_type 1 photo, 2 video (the spec's 3 "both" is not in the production integration's table, so the two are asked apart: docs/jimi-api.md#media).
MEDIA_CAMERAS = (1, 2)
MEDIA_TYPES = (1, 2)
# fence.list: page_size 1-50 (docs/jimi-api.md#fences).
FENCE_PAGE_SIZE = 50
FENCE_MAX_PAGES = 1000
# Which devices have cameras: by model prefix. Jimi's video devices are the JC family (JC261, JC400, JC450,
# ...): the default of the `media_models` setting. TAG devices have no documented model family, so the
# `tag_models` setting names them (none by default).
MEDIA_MODEL_PREFIXES = ("JC",)
METHOD_TIMEOUT_S.update({MEDIA_URL: 60.0, MEDIA_EVENT_URL: 60.0})
