"""Reading and validating the private parameters of API methods, with the vendor's refusal codes.

Every helper raises `ApiError` 1001 (parameter error) with a message naming the parameter, except the
account and device checks, which use the code each method documents (1001, 1002 or 1100).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sources.jimi.signing import format_time, parse_time
from sources.jimi_sim.api.errors import ILLEGAL_DEVICE, ApiError, invalid, missing
from sources.jimi_sim.api.state import Simulator
from sources.jimi_sim.world.catalogue import Device

CLOCK_SKEW = timedelta(minutes=10)
RETENTION = timedelta(days=90)
BUSINESS_EXCEPTION = (1100, "Business exception ")  # sic: the spec's message ends with a space
_ILLEGAL_DEVICE = (ILLEGAL_DEVICE, "Illegal device")


def int_param(params: Mapping[str, str], name: str, low: int, high: int, default: int | None = None) -> int:
    if name not in params:
        if default is None:
            raise missing(name)
        return default
    try:
        value = int(params[name])
    except ValueError:
        raise invalid(name, f"must be an integer between {low} and {high}") from None
    if not low <= value <= high:
        raise invalid(name, f"must be between {low} and {high}")
    return value


def time_param(params: Mapping[str, str], name: str) -> datetime:
    if name not in params:
        raise missing(name)
    try:
        return parse_time(params[name])
    except ValueError:
        raise invalid(name, "must be a UTC time formatted yyyy-MM-dd HH:mm:ss") from None


def window(
    sim: Simulator,
    params: Mapping[str, str],
    names: tuple[str, str],
    max_span: timedelta | None,
    span_text: str = "",
    kept: str = "data",
) -> tuple[datetime, datetime]:
    """A [begin, end] request window: begin before end, end not after now, within span and retention."""
    begin, end = time_param(params, names[0]), time_param(params, names[1])
    now = sim.clock.now()
    if begin >= end:
        raise invalid(names[0], f"must be earlier than {names[1]}")
    if end > now + CLOCK_SKEW:
        raise invalid(names[1], f"must not be later than the current time ({format_time(now)} UTC)")
    if max_span is not None and end - begin > max_span:
        raise invalid(names[1], f"is too far from {names[0]}: the time span exceeds {span_text}")
    if begin < now - RETENTION:
        raise invalid(names[0], f"is too old: {kept} is kept for 3 months only")
    return begin, end


def imei_list(sim: Simulator, params: Mapping[str, str], name: str, refusal: tuple[int, str]) -> list[Device]:
    """The devices of a comma-separated IMEI list: at most the batch limit, every one in the account."""
    if name not in params:
        raise missing(name)
    imeis = [part.strip() for part in params[name].split(",") if part.strip()]
    if not imeis:
        raise missing(name)
    limit = sim.settings.shapes.max_imeis
    if len(imeis) > limit:
        raise invalid(name, f"lists {len(imeis)} IMEIs; at most {limit} are allowed per call")
    devices = []
    for imei in dict.fromkeys(imeis):  # a repeated IMEI is answered once
        device = sim.fleet.device(imei)
        if device is None:
            raise ApiError(*refusal)
        devices.append(device)
    return devices


def one_device(
    sim: Simulator, params: Mapping[str, str], name: str = "imei", refusal: tuple[int, str] = _ILLEGAL_DEVICE
) -> Device:
    """The device of a parameter that names exactly one IMEI of the account."""
    imei = params[name].strip()
    if "," in imei:
        raise invalid(name, "must be exactly one IMEI")
    device = sim.fleet.device(imei)
    if device is None:
        raise ApiError(*refusal)
    return device


def check_account(sim: Simulator, params: Mapping[str, str], name: str, refusal: tuple[int, str]) -> str:
    if params[name] != sim.settings.user_id:
        raise ApiError(*refusal)
    return params[name]


def row_window(params: Mapping[str, str], picky: bool, required: bool) -> tuple[int, int | None]:
    """(offset, page size or None = all) from `start_row` (1-based; "0" also means the first row)."""
    if required:
        for name in ("start_row", "page_size"):
            if name not in params:
                raise missing(name)
    if "page_size" not in params:
        return 0, None
    try:
        start, size = int(params.get("start_row", "1")), int(params["page_size"])
    except ValueError:
        raise ApiError(
            1001, "Parameter validation failed: start_row and page_size must be integers"
        ) from None
    if picky and not (1 <= size <= 50 and start >= 1 and (start - 1) % size == 0):
        # What a production client ran into: some combinations are refused, so it tries others.
        raise ApiError(1001, "Parameter validation failed")
    if size < 1 or size > 1000 or start < 0:
        raise ApiError(1001, "Parameter validation failed: page_size must be 1-1000, start_row >= 0")
    return max(start - 1, 0), size
