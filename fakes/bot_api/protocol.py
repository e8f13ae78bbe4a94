"""What every part of the fake shares about the Bot API: its JSON objects and its error answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSONDict = dict[str, Any]


class ApiError(Exception):
    """Carry an error answer of the Bot API (``ok: false``) with its HTTP status."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def payload(self) -> JSONDict:
        """Return the JSON body Telegram would send for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: Mapping[str, Any] | None = None) -> ApiError:
    """Build the 400 ``Bad Request: reason`` error Telegram answers with."""
    return ApiError(400, f"Bad Request: {reason}", parameters)
