"""The Python publisher against a real ssehub (built from this tree) with the
example catalog, and the payload types `ssehub gen python` generated from it
(examples/catalog/events_gen.py)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import typing
import unittest
import urllib.request

from harness import REPO, Proxy, Server, Stream, body_of, wait_until

import ssehub

_spec = importlib.util.spec_from_file_location("events_gen", os.path.join(REPO, "examples", "catalog", "events_gen.py"))
events_gen = importlib.util.module_from_spec(_spec)
sys.modules["events_gen"] = events_gen  # get_type_hints resolves names in it
_spec.loader.exec_module(events_gen)

server: Server


def setUpModule() -> None:
    global server
    server = Server()


def tearDownModule() -> None:
    server.stop()


def chat_message(text: str = "hi <b>there</b><script>x()</script>") -> "events_gen.ChatMessage":
    return {
        "conversationId": "c1",
        "message": {
            "id": "m1",
            "text": text,
            "sender": {"id": "u2", "name": "Bob"},
            "sentAt": "2026-12-06T10:00:00Z",
        },
    }


class PublisherTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tenant = "t-" + self.id().rsplit(".", 1)[-1][:40].replace("_", "-")
        self.pub = events_gen.Publisher(server.url, server.token("backend", self.tenant, "publisher"), timeout=5)
        self.stream = Stream(server, server.token("u1", self.tenant, channels="conversation:*"), "conversation:c1")
        self.addCleanup(self.stream.close)

    def marker(self) -> str:
        """Publishes a marker event and returns its id: whatever the stream
        receives before it was published before it."""
        r = self.pub.emit("data:update", {"entity": "marker", "action": "update", "id": 0},
                          ssehub.to_user("u1"), tenant_id=self.tenant)
        return r.id

    def test_typed_payload_is_delivered_sanitized(self) -> None:
        r = self.pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertTrue(r.id)
        self.assertFalse(r.coalesced)
        name, id_, data = self.stream.next_event()
        self.assertEqual((name, id_), ("chat:message", r.id))
        got = json.loads(data)
        self.assertEqual(got["message"]["sender"], {"id": "u2", "name": "Bob"})
        self.assertNotIn("<script>", got["message"]["text"])  # the catalog's UGC policy ran
        self.assertIn("<b>there</b>", got["message"]["text"])

    def test_dataclass_payload(self) -> None:
        @dataclasses.dataclass
        class Typing:
            conversationId: str
            userId: str
            isTyping: bool

        r = self.pub.emit("chat:typing", Typing("c1", "u7", True), ssehub.to_user("u1"),  # type: ignore[call-overload]
                          tenant_id=self.tenant)
        name, id_, data = self.stream.next_event()
        self.assertEqual(id_, r.id)
        self.assertEqual((name, json.loads(data)), ("chat:typing", {"conversationId": "c1", "userId": "u7", "isTyping": True}))

    def test_generated_types_match_the_served_catalog(self) -> None:
        with urllib.request.urlopen(server.url + "/api/events/schema", timeout=5) as resp:
            schema = json.load(resp)
        served = {d["x-ssehub"]["event"]: d for d in schema["$defs"].values() if "event" in d.get("x-ssehub", {})}
        self.assertEqual(set(events_gen.EVENTS), set(served))
        for name, typ in events_gen.EVENTS.items():
            hints = typing.get_type_hints(typ)  # every annotation resolves
            self.assertEqual(set(hints), set(served[name]["properties"]), name)
            self.assertEqual(typ.__required_keys__, frozenset(served[name].get("required", [])), name)
            self.assertEqual(set(events_gen.EVENT_TARGETS[name]),
                             set(served[name]["x-ssehub"].get("targets", ["user", "users", "tenant", "channel", "broadcast"])))

    def test_catalog_422_is_an_exception_with_the_path(self) -> None:
        bad = chat_message()
        bad["message"]["sentAt"] = 12  # type: ignore[typeddict-item]
        with self.assertRaises(ssehub.APIError) as cm:
            self.pub.emit("chat:message", bad, ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        e = cm.exception
        self.assertEqual((e.status, e.code, e.path), (422, "unprocessable_event", "/message/sentAt"), e.body)
        self.assertEqual(e.field, "data/message/sentAt")
        self.assertIn("sentAt", e.message)
        self.assertEqual(e.body["error"]["code"], "unprocessable_event")

        missing = chat_message()
        del missing["message"]["text"]  # type: ignore[misc]
        with self.assertRaises(ssehub.APIError) as cm:
            self.pub.emit("chat:message", missing, ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual((cm.exception.status, cm.exception.path), (422, "/message"), cm.exception.body)

        with self.assertRaises(ssehub.APIError) as cm:
            self.pub.emit("no:such", {}, ssehub.to_user("u1"), tenant_id=self.tenant)  # type: ignore[call-overload]
        self.assertEqual(cm.exception.status, 422)

        with self.assertRaises(ssehub.APIError) as cm:  # system:announcement is broadcast only
            self.pub.emit("system:announcement", {"message": "m", "type": "info"}, ssehub.to_user("u1"),  # type: ignore[arg-type]
                          tenant_id=self.tenant)
        self.assertEqual((cm.exception.status, cm.exception.field, cm.exception.path), (422, "target", None))
        # Nothing of the refused publishes reached the stream.
        mark = self.marker()
        self.assertEqual(self.stream.next_event()[1], mark)

    def test_batch_is_all_or_none(self) -> None:
        good = ssehub.Event("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        bad = ssehub.Event("chat:typing", {"conversationId": "c1"}, ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        with self.assertRaises(ssehub.APIError) as cm:
            self.pub.emit_batch([good, bad])
        self.assertEqual((cm.exception.status, cm.exception.index, cm.exception.path), (422, 1, ""), cm.exception.body)
        mark = self.marker()
        self.assertEqual(self.stream.next_event()[1], mark)

        receipts = self.pub.emit_batch([good, ssehub.Event("data:update", {"entity": "invoice", "action": "create", "id": 7},
                                                           ssehub.to_user("u1"), tenant_id=self.tenant)])
        self.assertEqual([self.stream.next_event()[1] for _ in receipts], [r.id for r in receipts])

    def test_lost_answer_is_retried_with_the_same_key_and_published_once(self) -> None:
        proxy = Proxy(server.addr, ["lose-answer", "forward"])
        self.addCleanup(proxy.close)
        pub = ssehub.Publisher(proxy.url, self.pub.token, timeout=5, retries=2, backoff=0.01)
        r = pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual(len(proxy.requests), 2)
        keys = [body_of(req)["idempotencyKey"] for req in proxy.requests]
        self.assertEqual(keys[0], keys[1])
        self.assertTrue(keys[0])
        self.assertEqual(self.stream.next_event()[:2], ("chat:message", r.id))
        mark = self.marker()
        self.assertEqual(self.stream.next_event()[1], mark, "the retry was published twice")

    def test_503_from_a_proxy_is_retried_after_retry_after(self) -> None:
        busy = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 0\r\n"
                b"Content-Length: 72\r\nConnection: close\r\n\r\n"
                b'{"error":{"code":"broker_unavailable","message":"the broker is away"}}  ')
        proxy = Proxy(server.addr, [busy, "forward"])
        self.addCleanup(proxy.close)
        pub = ssehub.Publisher(proxy.url, self.pub.token, timeout=5, retries=1, backoff=0.01)
        r = pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual(self.stream.next_event()[1], r.id)

        proxy2 = Proxy(server.addr, [busy, busy])
        self.addCleanup(proxy2.close)
        pub = ssehub.Publisher(proxy2.url, self.pub.token, timeout=5, retries=1, backoff=0.01)
        with self.assertRaises(ssehub.APIError) as cm:
            pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual((cm.exception.status, cm.exception.code), (503, "broker_unavailable"))
        self.assertEqual(len(proxy2.requests), 2)

    def test_timeout_gives_up_after_the_retries(self) -> None:
        proxy = Proxy(server.addr, ["hang", "hang", "hang"])
        self.addCleanup(proxy.close)
        pub = ssehub.Publisher(proxy.url, self.pub.token, timeout=0.3, retries=1, backoff=0.01)
        start = time.monotonic()
        with self.assertRaises(ssehub.TransportError) as cm:
            pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        took = time.monotonic() - start
        self.assertTrue(cm.exception.timeout)
        self.assertTrue(wait_until(lambda: len(proxy.requests) == 2))
        self.assertLess(took, 3.0)
        self.assertGreaterEqual(took, 0.6)

    def test_client_errors_are_not_retried(self) -> None:
        proxy = Proxy(server.addr, [])
        self.addCleanup(proxy.close)
        pub = ssehub.Publisher(proxy.url, "not-a-token", retries=3, backoff=0.01)
        with self.assertRaises(ssehub.APIError) as cm:
            pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual((cm.exception.status, cm.exception.code), (401, "unauthorized"))
        self.assertEqual(len(proxy.requests), 1)
        # A 500 is not retried either: it is not known to be transient.
        oops = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 62\r\n"
                b"Connection: close\r\n\r\n"
                b'{"error":{"code":"internal_error","message":"internal error"}}')
        proxy500 = Proxy(server.addr, [oops, "forward"])
        self.addCleanup(proxy500.close)
        pub = ssehub.Publisher(proxy500.url, self.pub.token, retries=3, backoff=0.01)
        with self.assertRaises(ssehub.APIError) as cm:
            pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id=self.tenant)
        self.assertEqual((cm.exception.status, cm.exception.code), (500, "internal_error"))
        self.assertEqual(len(proxy500.requests), 1)
        # A publisher bound to another tenant: 403, nothing published.
        with self.assertRaises(ssehub.APIError) as cm:
            self.pub.emit("chat:message", chat_message(), ssehub.to_channel("conversation:c1"), tenant_id="other")
        self.assertEqual((cm.exception.status, cm.exception.code), (403, "forbidden"))

    def test_connection_refused_is_a_transport_error(self) -> None:
        import socket
        s = socket.create_server(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        pub = ssehub.Publisher("http://127.0.0.1:%d" % port, "t", retries=1, backoff=0.01)
        with self.assertRaises(ssehub.TransportError) as cm:
            pub.emit("x", {}, ssehub.to_user("u"), tenant_id="t")
        self.assertFalse(cm.exception.timeout)

    def test_bad_arguments(self) -> None:
        with self.assertRaises(ValueError):
            ssehub.Publisher("ftp://x", "t")
        with self.assertRaises(ValueError):
            self.pub.emit_batch([])
        with self.assertRaises(TypeError):
            self.pub.emit("chat:typing", {}, "u1", tenant_id=self.tenant)  # type: ignore[call-overload]


class InstallTest(unittest.TestCase):
    def test_pip_install_offline(self) -> None:
        """`pip install ./clients/python` with no package index."""
        with tempfile.TemporaryDirectory() as d:
            venv = os.path.join(d, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
            py = os.path.join(venv, "bin", "python")
            subprocess.run([py, "-m", "pip", "install", "--no-index", "--quiet", os.path.join(REPO, "clients", "python")],
                           check=True, timeout=120, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
            out = subprocess.run([py, "-c", "import ssehub, sys; print(ssehub.__version__, ssehub.__file__)"],
                                 check=True, capture_output=True, text=True, cwd=d, timeout=30).stdout
            self.assertTrue(out.startswith("0.1.0 " + venv), out)


if __name__ == "__main__":
    unittest.main()
