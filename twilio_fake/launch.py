"""Start a fake for a test or a benchmark: `serve()` in a thread here, `spawn()` as its own process."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

from twilio_fake.handle import FakeTwilio
from twilio_fake.server import ServerThread
from twilio_fake.state import FakeState

TEST_ACCOUNT_SID = "AC" + "0" * 31 + "1"
TEST_AUTH_TOKEN = "fake-auth-token-0123456789abcdef"  # noqa: S105 - a test double's published default
READY = "twilio_fake listening on "


@contextlib.contextmanager
def serve(
    account_sid: str = TEST_ACCOUNT_SID,
    auth_token: str = TEST_AUTH_TOKEN,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: float = 0.0,
) -> Iterator[FakeTwilio]:
    """The fake on a background thread of this process (port 0: any free port); stopped on exit.

    latency_ms: every create is answered that long after it arrives (Twilio takes ~100-300 ms)."""
    server = ServerThread(FakeState(account_sid, auth_token, latency=latency_ms / 1000), host, port)
    url = server.start()
    fake = FakeTwilio(url, account_sid, auth_token)
    try:
        yield fake
    finally:
        fake.close()
        server.stop()


@contextlib.contextmanager
def spawn(
    account_sid: str = TEST_ACCOUNT_SID,
    auth_token: str = TEST_AUTH_TOKEN,
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: float = 0.0,
) -> Iterator[FakeTwilio]:
    """The fake as a child process (`python -m twilio_fake`), so it shares no GIL with the caller."""
    command = [sys.executable, "-m", "twilio_fake", "--host", host, "--port", str(port)]
    command += ["--latency-ms", str(latency_ms)]
    command += ["--account-sid", account_sid, "--auth-token", auth_token]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(READY):
            raise RuntimeError(f"twilio_fake did not start (exit status {process.poll()}): {line!r}")
        fake = FakeTwilio(line[len(READY) :].strip(), account_sid, auth_token)
        try:
            yield fake
        finally:
            fake.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
