"""Faults and abuse that need no process to die: Redis gone, a flood of unsigned requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event

from bot import create_app
from tests.conftest import app_settings
from tests.webhooks.conftest import VERIFIED_EN, ensure_chain_head, load_demo, payload, reply, row_counts


@pytest.fixture
def app_without_redis(database_url: str) -> Iterator[Flask]:
    app = create_app(app_settings(database_url, REDIS_URL="redis://127.0.0.1:1/0"))
    ensure_chain_head(app.extensions["database"])
    load_demo(app)
    yield app
    app.extensions["database"].dispose()


def test_inbound_texts_are_answered_while_redis_is_down(app_without_redis: Flask) -> None:
    client = app_without_redis.test_client()
    assert "due" in reply(client, VERIFIED_EN, "when is my next payment due")
    assert reply(client, VERIFIED_EN, "STOP").startswith("You are unsubscribed")
    health = client.get("/healthz")
    assert health.status_code == 503 and "redis" in health.get_data(as_text=True).lower()


def test_a_flood_of_unsigned_requests_never_reaches_the_database(app_without_redis: Flask) -> None:
    before = row_counts(app_without_redis)
    statements: list[str] = []
    engine = app_without_redis.extensions["database"].engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        client = app_without_redis.test_client()
        for n in range(1000):
            params = payload(VERIFIED_EN, f"spam {n}")
            headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"} if n % 2 else {}
            assert client.post("/webhooks/sms", data=params, headers=headers).status_code == 403
            assert client.post("/webhooks/status", data={"MessageSid": "SM" + "0" * 32}).status_code == 403
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
    assert row_counts(app_without_redis) == before
