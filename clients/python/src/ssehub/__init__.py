"""Publish events to an ssehub server from Python, with the standard library only.

    import ssehub

    pub = ssehub.Publisher("http://127.0.0.1:8080", token)
    receipt = pub.emit("notification:new", {"id": "n1", "title": "Hello"},
                       ssehub.to_user("alice"), tenant_id="acme")
    print(receipt.id)

``ssehub gen python --catalog catalog.yaml -o events_gen.py`` writes a module
of TypedDicts for the catalog's payloads and a Publisher whose ``emit`` is
typed by them. Every error the server answers is an :class:`APIError`
carrying its JSON error body; a request that cannot reach the server after
the retries is a :class:`TransportError`.
"""

from ._errors import APIError, SSEHubError, TransportError
from ._publisher import Event, Publisher, Receipt
from ._targets import (
    BroadcastTarget,
    ChannelTarget,
    Target,
    TenantTarget,
    UsersTarget,
    UserTarget,
    broadcast,
    to_channel,
    to_tenant,
    to_user,
    to_users,
)

__all__ = [
    "APIError",
    "BroadcastTarget",
    "ChannelTarget",
    "Event",
    "Publisher",
    "Receipt",
    "SSEHubError",
    "Target",
    "TenantTarget",
    "TransportError",
    "UserTarget",
    "UsersTarget",
    "broadcast",
    "to_channel",
    "to_tenant",
    "to_user",
    "to_users",
]

__version__ = "0.1.0"
