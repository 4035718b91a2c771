"""Result codes and the refusal exception of the simulated API (docs/jimi-api.md#errors).

Handlers raise `ApiError`; the HTTP layer turns it into the vendor's refusal envelope (HTTP 200 with
`code`, `message`, `result: null`, `data: null`).
"""

from __future__ import annotations

SUCCESS = 0
SYSTEM_BUSY = -1
PARAMETER_ERROR = 1001
ILLEGAL_DEVICE = 1002
TOKEN_INVALID = 1004
TOO_FREQUENT = 1006
WRONG_HTTP_METHOD = 1007

TOKEN_INVALID_MESSAGE = "Illegal access, token is invalid"


class ApiError(Exception):
    """A refusal with the vendor's code and a message safe to show the caller (never a secret)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def missing(name: str) -> ApiError:
    return ApiError(PARAMETER_ERROR, f"Illegal parameter: {name} is required")


def invalid(name: str, why: str) -> ApiError:
    return ApiError(PARAMETER_ERROR, f"Illegal parameter: {name} {why}")
