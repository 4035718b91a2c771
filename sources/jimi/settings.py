"""Constants of the Jimi open API: endpoints, method names, limits and timeouts (jimi-api-facts.md)."""

from __future__ import annotations

from datetime import timedelta

# Regional nodes; each is the full interface URL, the method travels as a form field.
REGION_URLS = {
    "ts": "http://open.10000track.com/route/rest",
    "hk": "https://hk-open.tracksolidpro.com/route/rest",
    "eu": "https://eu-open.tracksolidpro.com/route/rest",
    "us": "https://us-open.tracksolidpro.com/route/rest",
}
# The embedded simulator (`jimi-sim serve`) listens here by default.
SIMULATOR_URL = "http://127.0.0.1:8765/route/rest"

TOKEN_GET = "jimi.oauth.token.get"
TOKEN_REFRESH = "jimi.oauth.token.refresh"
DEVICE_LIST = "jimi.user.device.list"
TRACK_LIST = "jimi.device.track.list"

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
# Overlap re-read by every incremental track poll, so fixes that reach the API a little late are kept.
TRACK_LOOKBACK = timedelta(minutes=35)
# How far back a device with no cursor yet starts.
TRACK_INITIAL_DAYS = 2

# Seconds per call before the HTTP read gives up; track.list was seen taking ~137 s in production.
DEFAULT_TIMEOUT_S = 30.0
METHOD_TIMEOUT_S = {TRACK_LIST: 300.0}
