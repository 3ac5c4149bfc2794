"""Twilio-shaped errors for the double: the exception handlers raise and the JSON body it becomes.

Twilio's classic error body is ``{"code", "message", "more_info", "status"}`` plus an optional
``details`` object; twilio-python turns it into ``TwilioRestException(status, uri, msg, code,
method, details)``. Handlers raise :class:`TwilioError`; the dispatcher renders it.

Codes marked *unconfirmed* are our best reading of Twilio's error dictionary, not verified live.
Must not import: infra.*
"""

from __future__ import annotations

from typing import Any

INVALID_PARAMETER = (
    20001  # generic invalid/missing parameter (TaskRouter-style); used for spec rejections
)
AUTHENTICATION_FAILED = 20003  # HTTP 401; wording unconfirmed
METHOD_NOT_ALLOWED = 20004  # HTTP 405; unconfirmed
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
INTERNAL_ERROR = 20500  # unconfirmed
SERVICE_UNAVAILABLE = 20503  # unconfirmed
INVALID_URL = 21402
INVALID_METHOD = 21403
FALLBACK_WITHOUT_VOICE_URL = 21405
FALLBACK_WITHOUT_SMS_URL = 21406  # https://www.twilio.com/docs/api/errors/21406
FLOW_DEFINITION_INVALID = 81022
SERVICE_NAME_TAKEN = 54301  # Serverless UniqueName already used; code unconfirmed (HTTP 409)
WORKER_NAME_TAKEN = 20001  # TaskRouter duplicate Worker FriendlyName; code unconfirmed (HTTP 409)

_STATUS_CODES = {
    401: AUTHENTICATION_FAILED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    429: TOO_MANY_REQUESTS,
    500: INTERNAL_ERROR,
    503: SERVICE_UNAVAILABLE,
}

_STATUS_MESSAGES = {
    401: "Authentication Error - invalid username",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def more_info(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


def error_body(
    status: int, code: int, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON object Twilio sends with a non-2xx answer."""
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "more_info": more_info(code),
        "status": status,
    }
    if details is not None:
        body["details"] = details
    return body


def status_error_body(status: int) -> dict[str, Any]:
    """Body for an injected HTTP failure (429, 5xx) with the code Twilio uses for that status."""
    code = _STATUS_CODES.get(status, status)
    return error_body(status, code, _STATUS_MESSAGES.get(status, f"HTTP {status}"))


class TwilioError(Exception):
    """Raised by a route handler to answer with a Twilio error body instead of a resource."""

    def __init__(
        self, status: int, code: int, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message, self.details)


def not_found(path: str) -> TwilioError:
    return TwilioError(404, NOT_FOUND, f"The requested resource {path} was not found")


def invalid(message: str, code: int = INVALID_PARAMETER) -> TwilioError:
    return TwilioError(400, code, message)


def conflict(message: str, code: int) -> TwilioError:
    return TwilioError(409, code, message)
