"""Type-checked by pyright (web/scripts/apidocs.sh), never run: the typed
Publisher that `ssehub gen python` writes (examples/catalog/events_gen.py)
takes the catalog's events with their payloads and targets, and refuses
the rest. Each `# type: ignore` marks a line that must be an error:
pyright reports an unnecessary one (reportUnnecessaryTypeIgnoreComment)."""

import ssehub
from events_gen import ChatMessage, Publisher

pub = Publisher("http://127.0.0.1:8080", "token")

msg: ChatMessage = {
    "conversationId": "c1",
    "message": {"id": "m1", "text": "hi", "sender": {"id": "u1", "name": "Ann"}, "sentAt": "2026-12-06T10:00:00Z"},
}
receipt: ssehub.Receipt = pub.emit("chat:message", msg, ssehub.to_channel("conversation:c1"), tenant_id="t1")
pub.emit("chat:typing", {"conversationId": "c1", "userId": "u1", "isTyping": True}, ssehub.to_user("u1"))
pub.emit("system:announcement", {"message": "m", "type": "info"}, ssehub.broadcast())
pub.emit("notification:new", {"id": "n1", "title": "Hi", "from": None}, ssehub.to_users(["u1", "u2"]), tenant_id="t1")

# Refused: a missing property, a wrong type, an unknown key, an enum value
# the catalog does not have, a target the event does not allow, an event
# the catalog does not have.
pub.emit("chat:typing", {"conversationId": "c1", "userId": "u1"}, ssehub.to_user("u1"))  # type: ignore
pub.emit("chat:typing", {"conversationId": "c1", "userId": "u1", "isTyping": "yes"}, ssehub.to_user("u1"))  # type: ignore
pub.emit("chat:typing", {"conversationId": "c1", "userId": "u1", "isTyping": True, "x": 1}, ssehub.to_user("u1"))  # type: ignore
pub.emit("system:announcement", {"message": "m", "type": "urgent"}, ssehub.broadcast())  # type: ignore
pub.emit("system:announcement", {"message": "m", "type": "info"}, ssehub.to_user("u1"))  # type: ignore
pub.emit("no:such", {}, ssehub.to_user("u1"))  # type: ignore
