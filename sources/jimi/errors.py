"""Typed errors for Jimi API failures. Messages name the method, code and context, never a secret."""

from __future__ import annotations

from . import settings


class JimiError(Exception):
    """Base of every error this source raises."""


class JimiApiError(JimiError):
    """The API answered with a non-zero `code` in the body (or a body we cannot use)."""

    def __init__(self, method: str, code: int | None, server_message: str, context: str = "") -> None:
        self.method = method
        self.code = code
        self.server_message = server_message
        self.context = context
        where = f" ({context})" if context else ""
        code_text = f"code {code}" if code is not None else "a bad response"
        super().__init__(f"{method}{where} failed with {code_text}: {server_message}")


class JimiAuthError(JimiApiError):
    """Credentials were refused: retrying cannot help."""


class JimiParameterError(JimiApiError):
    """1001: a parameter was missing or out of the method's limits."""


class JimiDeviceError(JimiApiError):
    """1002: the device is not in the account (or not visible to it)."""


class JimiTokenError(JimiApiError):
    """1004: the access token is missing, invalid or expired."""


class JimiResponseError(JimiApiError):
    """The answer was not in the documented shape."""


class JimiTransientError(JimiApiError):
    """A failure worth retrying: 1006, -1, HTTP 5xx, timeouts, dropped connections, truncated bodies."""

    def __init__(self, method: str, cause: str, detail: str, context: str = "", code: int | None = None):
        self.cause = cause
        super().__init__(method, code, detail, context)

    def exhausted(self, attempts: int) -> JimiApiError:
        """The error to raise once retries are used up."""
        return JimiRetriesExhausted(
            self.method, self.code, f"{self.server_message} (gave up after {attempts} attempts)", self.context
        )


class JimiRetriesExhausted(JimiApiError):
    """A transient failure that outlasted every retry."""


_BY_CODE: dict[int, type[JimiApiError]] = {
    settings.CODE_PARAMETER: JimiParameterError,
    settings.CODE_ILLEGAL_DEVICE: JimiDeviceError,
    settings.CODE_TOKEN_INVALID: JimiTokenError,
}
_TRANSIENT = {settings.CODE_TOO_FREQUENT: "1006", settings.CODE_BUSY: "-1", settings.CODE_IP_LIMIT: "1005"}


def error_for_code(method: str, code: int, message: str, context: str) -> JimiApiError:
    """The exception for a body with a non-zero code."""
    if code in _TRANSIENT:
        return JimiTransientError(method, _TRANSIENT[code], message or "rate limited", context, code=code)
    return _BY_CODE.get(code, JimiApiError)(method, code, message, context)
