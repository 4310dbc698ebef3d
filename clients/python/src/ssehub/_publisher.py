"""The publisher: POST /api/events with retries that reuse the idempotency key."""

from __future__ import annotations

import dataclasses
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Mapping, Optional, Sequence, cast

from ._errors import APIError, TransportError

PUBLISH_PATH = "/api/events"

# Answers worth another attempt: the server is restarting, its broker is
# away, a proxy in front of it failed, or a rate limit said when to retry.
# A retry is safe because every attempt carries the same idempotency keys.
_RETRY_STATUS = frozenset({429, 502, 503, 504})


@dataclasses.dataclass(frozen=True)
class Receipt:
    """What the server assigned to one published event.

    ``id`` is the event id (what subscribers see as ``id:``); it is empty
    when ``coalesced`` is true: a coalescing rate limit holds the event and
    delivers the latest one at the end of its window.
    """

    id: str
    coalesced: bool = False


@dataclasses.dataclass
class Event:
    """One event of :meth:`Publisher.emit_batch`."""

    event: str
    data: Any
    target: Mapping[str, Any]
    tenant_id: Optional[str] = None
    exclude_connection_id: Optional[str] = None
    idempotency_key: Optional[str] = None


class Publisher:
    """Publishes events to an ssehub server over HTTP.

    ``url`` is the server's base URL (``http://127.0.0.1:8080``) or the full
    publish URL; ``token`` a JWT with the publisher role. ``timeout`` is the
    time one attempt may take, in seconds; a failed attempt (no answer, a
    timeout, 429, 502, 503 other than ``sse_disabled``, 504) is
    retried up to ``retries`` more times after
    ``min(backoff * 2**attempt, max_backoff)`` seconds with 10 % jitter, or
    after the server's Retry-After when that is longer. Every attempt sends
    the same idempotency key, so the server publishes an event once even
    when an earlier attempt was applied but its answer was lost.

    A Publisher holds no connection between calls and may be shared by
    threads.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        user_agent: str = "ssehub-python/0.1.0",
    ):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"ssehub: url {url!r}: want http(s)://host[:port][/path]")
        if parts.path in ("", "/"):
            url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, PUBLISH_PATH, "", ""))
        if timeout <= 0 or retries < 0 or backoff < 0 or max_backoff < 0:
            raise ValueError("ssehub: timeout must be positive; retries, backoff and max_backoff not negative")
        self.url = url
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent

    def emit(
        self,
        event: str,
        data: Any,
        target: Mapping[str, Any],
        *,
        tenant_id: Optional[str] = None,
        exclude_connection_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Receipt:
        """Publishes one event and returns its :class:`Receipt`.

        ``data`` is any JSON value: a dict (such as a generated TypedDict)
        or a dataclass instance. Without ``idempotency_key`` a random one is
        made for this call and reused by its retries.
        """
        body = _event_body(Event(event, data, target, tenant_id, exclude_connection_id, idempotency_key))
        answer = self._post(body)
        return Receipt(str(answer.get("id", "")), bool(answer.get("coalesced", False)))

    def emit_batch(self, events: Sequence[Event]) -> list[Receipt]:
        """Publishes several events in one request, all or none.

        When the server refuses one, nothing is published and the
        :class:`APIError`'s ``index`` says which.
        """
        if not events:
            raise ValueError("ssehub: emit_batch needs at least one event")
        body = [_event_body(e) for e in events]
        answer = self._post(body)
        ids: list[Any] = answer.get("ids") or []
        held: set[Any] = set(answer.get("coalesced") or [])
        return [Receipt(str(id_), i in held) for i, id_ in enumerate(ids)]

    def _post(self, body: Any) -> dict[str, Any]:
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_default).encode()
        attempt = 0
        while True:
            try:
                return self._once(payload)
            except APIError as e:
                if e.status not in _RETRY_STATUS or e.code == "sse_disabled" or attempt >= self.retries:
                    raise
                delay = max(self._delay(attempt), min(e.retry_after or 0, self.max_backoff * 4))
            except TransportError:
                if attempt >= self.retries:
                    raise
                delay = self._delay(attempt)
            time.sleep(delay)
            attempt += 1

    def _delay(self, attempt: int) -> float:
        d = min(self.backoff * (2**attempt), self.max_backoff)
        return d * random.uniform(0.9, 1.1)

    def _once(self, payload: bytes) -> dict[str, Any]:
        req = urllib.request.Request(self.url, data=payload, method="POST")
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("User-Agent", self.user_agent)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            with e:
                try:
                    raw = e.read()
                except (OSError, http.client.HTTPException):
                    raw = b""
            raise APIError(e.code, _decode(raw), _retry_after(e.headers.get("Retry-After"))) from None
        except (TimeoutError, socket.timeout) as e:
            raise TransportError(f"ssehub: POST {self.url}: timed out after {self.timeout}s", timeout=True) from e
        except urllib.error.URLError as e:
            timeout = isinstance(e.reason, (TimeoutError, socket.timeout))
            raise TransportError(f"ssehub: POST {self.url}: {e.reason}", timeout=timeout) from e
        except (OSError, http.client.HTTPException) as e:
            raise TransportError(f"ssehub: POST {self.url}: {e!r}") from e
        answer = _decode(raw)
        if not isinstance(answer, dict):
            raise TransportError(f"ssehub: POST {self.url}: the answer is not a JSON object: {raw[:200]!r}")
        return cast(dict[str, Any], answer)


def _event_body(e: Event) -> dict[str, Any]:
    if not isinstance(cast(object, e.target), Mapping):
        raise TypeError("ssehub: target must be a mapping such as ssehub.to_user('u1')")
    body: dict[str, Any] = {"event": e.event, "data": e.data, "target": dict(e.target)}
    if e.tenant_id is not None:
        body["tenantId"] = e.tenant_id
    if e.exclude_connection_id is not None:
        body["excludeConnectionId"] = e.exclude_connection_id
    # A key per event, made once, so that every retry of this request
    # carries the same one.
    body["idempotencyKey"] = e.idempotency_key if e.idempotency_key is not None else uuid.uuid4().hex
    return body


def _default(o: Any) -> Any:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    raise TypeError(f"ssehub: {type(o).__name__} is not JSON serializable")


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"error": {"code": "", "message": raw[:300].decode("utf-8", "replace")}}


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
