"""The errors of a publish."""

from __future__ import annotations

import re
from typing import Any, Optional, cast

# The catalog's 422 message names the offending value as a JSON pointer:
# 'event "chat:message": data at /message/text: missing property ...'.
_DATA_PATH = re.compile(r"data at (/\S*):")


class SSEHubError(Exception):
    """The base of every error this package raises."""


class APIError(SSEHubError):
    """The server answered with an error status and its JSON error body.

    ``status`` is the HTTP status; ``code`` the machine-readable code
    (``unprocessable_event``, ``rate_limited``, ...: branch on it, never on
    the message); ``field`` names the request member at fault (``data``,
    ``target``, ...); ``index`` the event of a batch at fault; ``path`` the
    JSON pointer inside ``data`` where the catalog's schema failed (``""``
    when it is the payload itself, ``None`` when not a payload error);
    ``body`` the decoded answer; ``retry_after`` the Retry-After seconds.
    """

    def __init__(self, status: int, body: Any, retry_after: Optional[float] = None):
        err: dict[str, Any] = {}
        if isinstance(body, dict):
            inner = cast(dict[str, Any], body).get("error")
            if isinstance(inner, dict):
                err = cast(dict[str, Any], inner)
        self.status = status
        self.body: Any = body
        self.code: str = str(err.get("code") or "http_%d" % status)
        self.message: str = str(err.get("message") or "")
        field, index = err.get("field"), err.get("index")
        self.field: Optional[str] = field if isinstance(field, str) else None
        self.index: Optional[int] = index if isinstance(index, int) else None
        self.retry_after = retry_after
        # The server names the value in field ("data/message/sentAt");
        # older servers said "data" and put the pointer in the message.
        self.path: Optional[str] = None
        if self.field is not None and self.field.startswith("data/"):
            self.path = self.field[len("data"):]
        elif self.field == "data":
            m = _DATA_PATH.search(self.message)
            self.path = "" if not m or m.group(1) == "/" else m.group(1)
        super().__init__(f"ssehub: {status} {self.code}: {self.message}")


class TransportError(SSEHubError):
    """The request got no answer: the connection failed or timed out on every attempt.

    ``timeout`` says whether the last attempt timed out; the cause is in
    ``__cause__``.
    """

    def __init__(self, message: str, timeout: bool = False):
        self.timeout = timeout
        super().__init__(message)
