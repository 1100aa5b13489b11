"""python -m twilio_fake --port 8765 --account-sid AC... --auth-token ... [--latency-ms 200]: serve until
interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from twilio_fake.launch import READY, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from twilio_fake.server import new_event_loop, serve_forever
from twilio_fake.state import FakeState


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twilio_fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0: any free port (printed on start)")
    parser.add_argument("--account-sid", default=TEST_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=TEST_AUTH_TOKEN)
    parser.add_argument("--callback-concurrency", type=int, default=64, help="callbacks in flight at once")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="answer each create this long after it arrives"
    )
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    state = FakeState(
        args.account_sid,
        args.auth_token,
        callback_concurrency=args.callback_concurrency,
        latency=args.latency_ms / 1000,
    )

    def ready(url: str) -> None:
        print(READY + url, flush=True)

    loop = new_event_loop()
    task = loop.create_task(serve_forever(state, args.host, args.port, ready))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(task)
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
