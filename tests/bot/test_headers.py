"""Security headers on every kind of response: API answers, errors, the dashboard and its files."""

from __future__ import annotations

import pytest
from flask import Flask

from bot import create_app
from tests.conftest import app_settings
from tests.webhooks.conftest import sign, sqlite_only

REQUIRED = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")


def requests_of_every_kind(app: Flask) -> dict[str, object]:
    client = app.test_client()
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "sent"}
    return {
        "healthz": client.get("/healthz"),
        "sms 403": client.post("/webhooks/sms", data={"Body": "x"}),
        "sms 415": client.post("/webhooks/sms", data="x", content_type="text/plain"),
        "status 200": client.post(
            "/webhooks/status",
            data=params,
            headers={"X-Twilio-Signature": sign(params, "http://localhost/webhooks/status")},
        ),
        "404": client.get("/no/such/page"),
        "405": client.get("/webhooks/sms"),
        "dashboard redirect": client.get("/dashboard/"),
        "sign-in page": client.get("/dashboard/login"),
    }


@sqlite_only
def test_every_response_carries_the_security_headers(app: Flask) -> None:
    for name, response in requests_of_every_kind(app).items():
        missing = [header for header in REQUIRED if header not in response.headers]  # type: ignore[attr-defined]
        assert not missing, f"{name}: {missing}"
        assert response.headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[attr-defined]
        assert "Strict-Transport-Security" not in response.headers  # type: ignore[attr-defined]


@sqlite_only
def test_api_answers_may_load_nothing_and_are_never_cached(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["Cache-Control"] == "no-store"
    # The dashboard keeps its own, page-specific policy.
    page = app.test_client().get("/dashboard/login")
    assert "default-src 'none'; frame-ancestors 'none'" != page.headers["Content-Security-Policy"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_production_adds_hsts(database_url: str) -> None:
    app = create_app(
        app_settings(
            database_url,
            BOT_ENV="production",
            AGENCY_PHONE="1-800-555-0123",
            AGENCY_URL="https://cs.example.gov",
        )
    )
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
