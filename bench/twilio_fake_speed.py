"""Benchmark: how fast twilio_fake answers the real twilio client, and how fast it posts callbacks.

Run from the repository root:

    .venv/bin/python bench/twilio_fake_speed.py                       # 100,000 messages with callbacks
    .venv/bin/python bench/twilio_fake_speed.py --loop 5000 --messages 20000 --threads 4

What it does, with the fake as its own process (`twilio_fake.spawn()`, as issue 5's benchmark runs it)
and a minimal aiohttp callback receiver as a third process:

1. one thread: --loop creates from one twilio Client in a plain loop, no StatusCallback: creates/s;
2. --threads threads, one Client each, --loop creates in all: creates/s;
3. --messages creates from --threads threads, each with a StatusCallback to the receiver; then waits
   until the fake has posted every callback (2 per message: sent, delivered): creates/s, callbacks/s
   (all callbacks over the time from the first create to the last callback), callbacks that failed,
   and the fake's peak RSS with all messages held.
Alongside each step: CPU seconds the fake process used (from /proc) per 1,000 creates, which says
whether the fake or the client is the bottleneck on a small machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import twilio_fake  # noqa: E402 - after the path fix, as a script run from anywhere
from twilio_fake import FakeTwilio  # noqa: E402

SENDER = "+15005550006"
BODY = "Child support reminder: your payment of the amount due is due in 3 days. Reply HELP for help."


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(fake: FakeTwilio, count: int, first: int, callback: str | None) -> None:
    twilio = fake.client(timeout=30)
    for index in range(first, first + count):
        fields = {"status_callback": callback} if callback else {}
        twilio.messages.create(to=f"+1555{index:07d}", from_=SENDER, body=BODY, **fields)


def run(fake: FakeTwilio, total: int, threads: int, callback: str | None) -> float:
    """Send `total` creates from `threads` threads; seconds taken."""
    share = total // threads
    workers = [threading.Thread(target=send, args=(fake, share, n * share, callback)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def receiver() -> None:
    """The callback receiver process: answers 200 to every POST, prints its URL."""
    from aiohttp import web

    from twilio_fake.server import new_event_loop

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/webhooks/status", ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        print(f"http://127.0.0.1:{port}/webhooks/status", flush=True)
        while True:
            await asyncio.sleep(3600)

    import asyncio

    loop = new_event_loop()
    loop.run_until_complete(main())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loop", type=int, default=10_000, help="creates in steps 1 and 2")
    parser.add_argument("--messages", type=int, default=100_000, help="creates with callbacks in step 3")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        receiver()
        return 0

    print(f"{os.cpu_count()} CPUs; fake, receiver and client are separate processes")
    receiving = subprocess.Popen([sys.executable, __file__, "--receiver"], stdout=subprocess.PIPE, text=True)
    try:
        assert receiving.stdout is not None
        callback_url = receiving.stdout.readline().strip()
        with twilio_fake.spawn() as fake:
            pid = fake.stats()["pid"]
            run(fake, 200, 1, None)  # warm up connections and code paths
            fake.reset()

            for label, threads in (("1 thread", 1), (f"{args.threads} threads", args.threads)):
                cpu = cpu_seconds(pid)
                seconds = run(fake, args.loop, threads, None)
                used = cpu_seconds(pid) - cpu
                print(
                    f"creates, {label:>10}: {args.loop / seconds:8.0f}/s  ({args.loop} in {seconds:.1f} s; "
                    f"fake CPU {1000 * used / args.loop:.2f} s per 1,000)"
                )
                fake.reset()

            cpu = cpu_seconds(pid)
            started = time.perf_counter()
            seconds = run(fake, args.messages, args.threads, callback_url)
            stats = fake.wait_for_callbacks(timeout=600)
            total = time.perf_counter() - started
            used = cpu_seconds(pid) - cpu
            callbacks = stats["callbacks"]
            posted = callbacks["succeeded"] + callbacks["failed"]
            print(
                f"with callbacks, {args.threads} threads: {args.messages / seconds:.0f} creates/s "
                f"({args.messages} in {seconds:.1f} s); {posted} callbacks done {total:.1f} s after the "
                f"first create: {posted / total:.0f}/s overall, {callbacks['failed']} failed; "
                f"fake CPU {used:.1f} s"
            )
            print(f"fake peak RSS with {stats['messages']} messages: {stats['max_rss_kb'] / 1024:.0f} MiB")
            ok = (
                stats["messages"] == args.messages and posted == 2 * args.messages and not callbacks["failed"]
            )
            print("PASS" if ok else f"FAIL: {stats}")
            return 0 if ok else 1
    finally:
        receiving.terminate()
        receiving.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
