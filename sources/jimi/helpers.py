"""Small parsing helpers shared by the resources: envelopes, lenient numbers and times."""

from __future__ import annotations

from datetime import datetime

from .errors import JimiResponseError
from .signing import parse_time


def as_rows(payload: object, what: str) -> list[dict]:
    """A `result` that should be a list: `null` is empty, a lone object is wrapped, anything else refused."""
    if payload is None:
        return []
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list) and all(isinstance(item, dict) for item in payload):
        return payload
    raise JimiResponseError(what, None, f"expected a list of objects, got {type(payload).__name__}")


def number(value: object) -> float | None:
    """Numbers arrive as numbers or strings (docs/jimi-api.md #18); empty or unparsable means unknown."""
    if not isinstance(value, (str, int, float)) or value == "":  # None, or JSON's lists and objects
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_api_time(value: object) -> datetime | None:
    """`yyyy-MM-dd HH:mm:ss` UTC (hour possibly unpadded) as an aware datetime; empty is None."""
    if value is None or value == "":
        return None
    try:
        return parse_time(str(value))
    except ValueError:
        return None
