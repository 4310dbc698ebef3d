"""A real ssehub for the tests: built from this tree with go build, started on
a free loopback port with the example catalog, and a stream reader.

SSEHUB_BIN, when set, names an ssehub binary to use instead of building one.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CATALOG = os.path.join(REPO, "examples", "catalog", "catalog.yaml")
SECRET = "python-publisher-tests-secret-0123456789abcdef"

sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
sys.dont_write_bytecode = True  # no __pycache__ next to examples/catalog/events_gen.py


class Server:
    """One ssehub process; stop() ends it."""

    def __init__(self, *args: str):
        self._dir = tempfile.mkdtemp(prefix="ssehub-py-")
        self.bin = os.environ.get("SSEHUB_BIN") or self._build()
        self.proc = subprocess.Popen(
            [self.bin, "--addr", "127.0.0.1:0", "--jwt-secret", SECRET, "--catalog", CATALOG, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._log: list[str] = []
        addr: queue.Queue[str] = queue.Queue()

        def read_log() -> None:  # owned by the process: ends when its stderr closes
            for line in self.proc.stderr:
                self._log.append(line)
                m = re.search(r'msg="ssehub listening" addr=(\S+)', line)
                if m:
                    addr.put(m.group(1))

        self._reader = threading.Thread(target=read_log, daemon=True)
        self._reader.start()
        try:
            self.addr = addr.get(timeout=30)
        except queue.Empty:
            self.stop()
            raise RuntimeError("ssehub did not start:\n" + "".join(self._log)) from None
        self.url = "http://" + self.addr

    def _build(self) -> str:
        out = os.path.join(self._dir, "ssehub")
        subprocess.run(["go", "build", "-o", out, "./cmd/ssehub"], cwd=REPO, check=True, timeout=300)
        return out

    def token(self, sub: str, tenant: str = "", roles: str = "", channels: str = "") -> str:
        args = [self.bin, "token", "--jwt-secret", SECRET, "--sub", sub, "--ttl", "10m"]
        if tenant:
            args += ["--tenant", tenant]
        if roles:
            args += ["--role", roles]
        if channels:
            args += ["--channels", channels]
        return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout.strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)


class Stream:
    """An open GET /api/sse; next_event() returns (event, id, data) or raises on timeout."""

    def __init__(self, server: Server, token: str, channels: str = ""):
        url = server.url + "/api/sse" + ("?channels=" + channels if channels else "")
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        self.resp = urllib.request.urlopen(req, timeout=10)
        ready = self.next_event()
        assert ready[0] == "sse:ready", ready
        self.ready = json.loads(ready[2])

    def next_event(self, timeout: float = 10.0) -> tuple[str, str, str]:
        self.resp.fp.raw._sock.settimeout(timeout)
        name, id_, data = "message", "", []
        while True:
            line = self.resp.readline()
            if not line:
                raise EOFError("stream closed")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    return name, id_, "\n".join(data)
                name, id_, data = "message", "", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "id":
                id_ = value
            elif field == "data":
                data.append(value)

    def close(self) -> None:
        self.resp.close()


class Proxy:
    """A TCP proxy in front of the server whose behaviour per connection is
    scripted: "forward", "lose-answer" (forward the request, read the answer,
    close without passing it on), "hang" (read the request, never answer) or
    a raw HTTP response to send instead of forwarding. It records each
    request it read."""

    def __init__(self, upstream: str, script: list[object]):
        self.upstream = upstream
        self.script = list(script)
        self.requests: list[bytes] = []
        self._ln = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self._ln.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:  # owned by the Proxy: close() ends it
        while not self._stop.is_set():
            try:
                c, _ = self._ln.accept()
            except OSError:
                return
            self._conns.append(c)
            action = self.script.pop(0) if self.script else "forward"
            threading.Thread(target=self._handle, args=(c, action), daemon=True).start()

    def _handle(self, c: socket.socket, action: object) -> None:
        try:
            req = _read_http(c)
            self.requests.append(req)
            if action == "hang":
                self._stop.wait(30)
                return
            if isinstance(action, bytes):
                c.sendall(action)
                return
            host, port = self.upstream.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as up:
                up.sendall(req)
                answer = _read_http(up)
            if action == "lose-answer":
                return
            c.sendall(answer)
        except OSError:
            pass
        finally:
            c.close()

    def close(self) -> None:
        self._stop.set()
        self._ln.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(timeout=5)


def _read_http(s: socket.socket) -> bytes:
    """Reads one HTTP/1.1 message with a Content-Length body."""
    s.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def body_of(request: bytes) -> object:
    return json.loads(request.partition(b"\r\n\r\n")[2])


def wait_until(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()
