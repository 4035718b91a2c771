"""MD5 request signing for the Jimi open API, exactly as the vendor's Java reference does it.

The rules (docs/jimi-api.md#signing): every parameter except `sign` takes part; values are stringified
first, so the bytes signed are the bytes sent; pairs whose key or value is empty are skipped; names are
sorted by code point (case-sensitive); `name+value` pairs are concatenated without separators and wrapped in
the app secret; the MD5 of that UTF-8 string, in upper-case hex, is the signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def stringify(value: object) -> str:
    """The wire form of a parameter value: what is signed must be byte-identical to what is posted."""
    if isinstance(value, bool):
        # str(True) would sign "True"; the API has no booleans, only 0/1 flags.
        return "1" if value else "0"
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def wire_params(params: Mapping[str, object]) -> dict[str, str]:
    """Stringify the values and drop `None` and empty ones, as the Java reference skips them."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or key == "sign":
            continue
        text = stringify(value)
        if key and text:
            out[key] = text
    return out


def sign(params: Mapping[str, object], app_secret: str) -> str:
    """The `sign` value for these parameters (upper-case hex MD5)."""
    wired = wire_params(params)
    body = "".join(f"{key}{wired[key]}" for key in sorted(wired))
    return hashlib.md5(f"{app_secret}{body}{app_secret}".encode()).hexdigest().upper()


def password_md5(password: str) -> str:
    """`user_pwd_md5`: the lower-case MD5 hex of the account password."""
    return hashlib.md5(password.encode()).hexdigest()


def format_time(moment: datetime) -> str:
    """A UTC `yyyy-MM-dd HH:mm:ss` string; naive datetimes are taken as UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse the API's `yyyy-MM-dd HH:mm:ss` (hour may be unpadded) as an aware UTC datetime."""
    return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=UTC)
