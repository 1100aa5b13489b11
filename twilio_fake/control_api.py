"""The test double's own API under /_fake/ (JSON, no auth): look at what arrived, change how it behaves.

    GET  /_fake/messages[?to=+1555...]   [{sid, to, from, messaging_service_sid, body, status, error_code,
                                            status_callback, date_created, created (Unix seconds,
                                            microseconds), callbacks: [{status, http_status,
                                            error}]}]   in creation order
    GET  /_fake/callbacks                [{message_sid, status, http_status, error}]   in the order they ended
    GET  /_fake/stats                    {pid, max_rss_kb, messages, statuses, rejected,
                                          callbacks: {succeeded, failed, pending},
                                          creates: {in_flight, max_in_flight}}
    POST /_fake/refuse                   {"number": "+1...", "refuse": true}     21610 for it (false: stop)
    POST /_fake/outcome                  {"number": "+1...", "status": "undelivered", "error_code": 30006}
    POST /_fake/max_rate                 {"per_second": 10, "burst": 10}         null per_second: no limit
    POST /_fake/fail_next                {"count": 2, "status": 503, "number": null}
    POST /_fake/callback_mode            {"reverse": false, "duplicate": false, "delay": 0.0}
    POST /_fake/latency                  {"ms": 200}      every create answered 200 ms after it arrives
    POST /_fake/reset                    {}
Every POST answers 200 {"ok": true}, or 400 {"error": "..."} for a bad request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from twilio_fake.behaviour import InjectedFailures, outcome
from twilio_fake.rate_limit import TokenBucket
from twilio_fake.rest_api import STATE
from twilio_fake.state import FakeState

Setting = Callable[[FakeState, dict[str, Any]], None]


def ok() -> web.Response:
    return web.json_response({"ok": True})


async def list_messages(request: web.Request) -> web.Response:
    to = request.query.get("to")
    messages = request.app[STATE].messages.values()
    return web.json_response([m.summary() for m in messages if to is None or m.to == to])


async def list_callbacks(request: web.Request) -> web.Response:
    attempts = request.app[STATE].callbacks.attempts
    keys = ("message_sid", "status", "http_status", "error")
    return web.json_response([dict(zip(keys, attempt, strict=True)) for attempt in attempts])


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats())


def refuse(state: FakeState, data: dict[str, Any]) -> None:
    number = str(data["number"])
    if data.get("refuse", True):
        state.behaviour.refused.add(number)
    else:
        state.behaviour.refused.discard(number)


def set_outcome(state: FakeState, data: dict[str, Any]) -> None:
    state.behaviour.outcomes[str(data["number"])] = outcome(
        data.get("status", "delivered"), data.get("error_code")
    )


def max_rate(state: FakeState, data: dict[str, Any]) -> None:
    rate = data.get("per_second")
    state.behaviour.rate_limit = None if rate is None else TokenBucket(float(rate), data.get("burst"))


def fail_next(state: FakeState, data: dict[str, Any]) -> None:
    count, status = int(data["count"]), int(data.get("status", 503))
    if count < 0 or not 500 <= status <= 599:
        raise ValueError("count must be >= 0 and status a 5xx")
    if count:
        state.behaviour.failures.append(InjectedFailures(count, status, data.get("number")))


def callback_mode(state: FakeState, data: dict[str, Any]) -> None:
    behaviour = state.behaviour
    behaviour.reverse_callbacks = bool(data.get("reverse", behaviour.reverse_callbacks))
    behaviour.duplicate_callbacks = bool(data.get("duplicate", behaviour.duplicate_callbacks))
    delay = float(data.get("delay", behaviour.callback_delay))
    if delay < 0:
        raise ValueError("delay must be >= 0")
    behaviour.callback_delay = delay


def latency(state: FakeState, data: dict[str, Any]) -> None:
    ms = float(data["ms"])
    if ms < 0:
        raise ValueError("ms must be >= 0")
    state.behaviour.latency = ms / 1000


def reset(state: FakeState, data: dict[str, Any]) -> None:
    state.reset()


def setting(change: Setting) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A POST handler that applies `change` to the state with the request's JSON."""

    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            data = json.loads(raw) if raw else {}
            if not isinstance(data, dict):
                raise ValueError("send a JSON object")
            change(request.app[STATE], data)
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        return ok()

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_fake/messages", list_messages)
    app.router.add_get("/_fake/callbacks", list_callbacks)
    app.router.add_get("/_fake/stats", stats)
    for name, change in {
        "refuse": refuse,
        "outcome": set_outcome,
        "max_rate": max_rate,
        "fail_next": fail_next,
        "callback_mode": callback_mode,
        "latency": latency,
        "reset": reset,
    }.items():
        app.router.add_post(f"/_fake/{name}", setting(change))
