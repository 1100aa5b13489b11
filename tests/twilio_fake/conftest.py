"""One fake per test session (reset before every test) and a small HTTP receiver for status callbacks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from twilio.rest import Client

import twilio_fake
from twilio_fake import FakeTwilio

SENDER = "+15005550006"
SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.fixture(scope="session")
def running_fake() -> Iterator[FakeTwilio]:
    with twilio_fake.serve() as fake:
        yield fake


@pytest.fixture()
def fake(running_fake: FakeTwilio) -> FakeTwilio:
    running_fake.reset()
    return running_fake


@pytest.fixture()
def twilio(fake: FakeTwilio) -> Client:
    return fake.client(timeout=10)


@dataclass
class Callback:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class Receiver:
    """Records every POST; answers `status` (200 unless a test changes it)."""

    url: str = ""
    status: int = 200
    received: list[Callback] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def statuses(self, message_sid: str) -> list[str]:
        with self.lock:
            return [c.form["MessageStatus"] for c in self.received if c.form["MessageSid"] == message_sid]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = dict(parse_qsl(body, keep_blank_values=True))
            callback = Callback(self.path, dict(self.headers.items()), form)
            with receiver.lock:
                receiver.received.append(callback)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/status"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
