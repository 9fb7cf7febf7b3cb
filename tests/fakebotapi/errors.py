"""Bot API error responses, worded the way Telegram words them.

Every failure inside the fake is raised as :class:`ApiError`; the HTTP layer turns it
into ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` with
the same HTTP status, which is exactly what PTB's ``BaseRequest`` maps to
``BadRequest`` / ``Forbidden`` / ``RetryAfter`` / ``NetworkError`` and friends.
"""

from __future__ import annotations

from typing import Any

# Descriptions Telegram uses when a status code comes without further detail.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API error: HTTP status, description and optional ``parameters``."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = self.parameters
        return payload


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def method_not_found() -> ApiError:
    return ApiError(404, "Not Found: method not found")


def error_for_status(
    status: int, description: str | None = None, retry_after: int | None = None
) -> ApiError:
    """Build the error an injected failure should produce."""
    if status == 429:
        seconds = 1 if retry_after is None else int(retry_after)
        error = too_many_requests(seconds)
        if description is not None:
            error.description = description
        return error
    parameters = {"retry_after": int(retry_after)} if retry_after is not None else None
    text = description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    return ApiError(status, text, parameters)


# Frequently used Telegram wordings, kept in one place so tests can refer to them.
CHAT_NOT_FOUND = "chat not found"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BOT_BLOCKED = "bot was blocked by the user"
USER_DEACTIVATED = "user is deactivated"
CANT_INITIATE = "bot can't initiate conversation with a user"
