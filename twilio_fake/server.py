"""Run the fake: in a background thread of this process, or in the foreground (python -m twilio_fake)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from aiohttp import web

from twilio_fake import control_api, rest_api
from twilio_fake.rest_api import STATE
from twilio_fake.state import FakeState


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed (it is: sanic pulls it in), asyncio's own loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def build_app(state: FakeState) -> web.Application:
    """The aiohttp application: Twilio's REST routes, the /_fake/ control routes, the callback sender."""
    app = web.Application(client_max_size=1024 * 1024)
    app[STATE] = state

    async def start_callbacks(app: web.Application) -> None:
        await state.callbacks.start()

    async def stop_callbacks(app: web.Application) -> None:
        await state.callbacks.stop()

    app.on_startup.append(start_callbacks)
    app.on_cleanup.append(stop_callbacks)
    rest_api.add_routes(app)
    control_api.add_routes(app)
    return app


async def start(state: FakeState, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start serving; answers the runner and the base URL (with the real port when port was 0)."""
    runner = web.AppRunner(build_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


class ServerThread:
    """The fake on its own event loop in a daemon thread; `start()` returns once it accepts connections."""

    def __init__(self, state: FakeState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state, self.host, self.port = state, host, port
        self.url = ""
        self._loop = new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="twilio-fake", daemon=True)

    def start(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start(self.state, self.host, self.port), self._loop)
        self._runner, self.url = future.result(timeout=10)
        return self.url

    def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def serve_forever(state: FakeState, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Serve until cancelled (SIGINT/SIGTERM in the command)."""
    runner, url = await start(state, host, port)
    ready(url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
