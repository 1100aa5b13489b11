"""Sign-in, sessions, CSRF, roles and headers, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import QueueItem, Supervisor, SupervisorAccess
from storage.supervisors import CLIENT_FAILURES, LOCK_AFTER
from tests.dashboard.conftest import ACCOUNTS, add_accounts, csrf_of, post, sign_in
from tests.webhooks.conftest import sqlite_only

PAGES = [
    "/dashboard/",
    "/dashboard/conversations",
    "/dashboard/conversations/1",
    "/dashboard/queue",
    "/dashboard/records",
    "/dashboard/access",
    "/dashboard/accounts",
]
POLLS = ["/dashboard/conversations/rows", "/dashboard/conversations/1/messages?after=0"]
POSTS = [
    "/dashboard/conversations/1/reveal",
    "/dashboard/queue/1/handle",
    "/dashboard/records/export",
    "/dashboard/accounts/1/unlock",
    "/dashboard/logout",
]


def test_every_page_sends_the_signed_out_to_sign_in(talked) -> None:  # noqa: ANN001
    client = talked.test_client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/dashboard/login"), url
    for url in POLLS:
        assert client.get(url).status_code == 401, url
    for url in POSTS:
        response = post(client, url, note="x", format="json", phone_id="1")
        assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/login"), url
    assert client.get("/dashboard/login").status_code == 200


def test_sign_in_and_out(talked) -> None:  # noqa: ANN001
    client = talked.test_client()
    response = sign_in(client, "supervisor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    post(client, "/dashboard/logout")
    assert client.get("/dashboard/").status_code == 302


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(talked) -> None:  # noqa: ANN001
    client = talked.test_client()
    for _ in range(LOCK_AFTER - 1):
        assert sign_in(client, "supervisor", "wrong password!!").status_code == 401
    response = sign_in(client, "supervisor", "wrong password!!")
    assert "locked" in response.get_data(as_text=True)
    # Locked: even the right password is refused.
    assert sign_in(client, "supervisor").status_code == 401
    assert client.get("/dashboard/").status_code == 302
    # An admin unlocks it, and it works again.
    admin = talked.test_client()
    sign_in(admin, "admin")
    with talked.extensions["database"].session() as session:
        locked = session.scalars(select(Supervisor).where(Supervisor.email == ACCOUNTS["supervisor"])).one()
    assert locked.locked_until is not None
    assert post(admin, f"/dashboard/accounts/{locked.id}/unlock").status_code == 302
    assert sign_in(client, "supervisor").status_code == 302


@sqlite_only
def test_one_client_failing_often_is_throttled(talked) -> None:  # noqa: ANN001
    client = talked.test_client()
    for attempt in range(CLIENT_FAILURES):
        email = f"nobody{attempt}@agency.gov"
        response = client.post(
            "/dashboard/login", data={"email": email, "password": "x" * 12, "csrf_token": csrf_of(client)}
        )
        assert response.status_code == 401
    assert sign_in(client, "admin").status_code == 429


@pytest.mark.parametrize("key", ["seen", "started"])
def test_sessions_expire(as_role, key: str) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    assert client.get("/dashboard/").status_code == 200
    with client.session_transaction() as session:
        session[key] -= 13 * 3600  # past both the idle limit and the absolute one
    assert client.get("/dashboard/").status_code == 302


def test_polling_does_not_keep_a_session_alive(as_role) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    with client.session_transaction() as session:
        session["seen"] -= 60
        seen = session["seen"]
    assert client.get("/dashboard/conversations/rows").status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == seen


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(as_role, talked) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    client.get("/dashboard/queue")
    with talked.extensions["database"].session() as session:
        item = session.scalars(select(QueueItem)).first()
    url = f"/dashboard/queue/{item.id}/handle"
    assert client.post(url, data={"note": "called back"}).status_code == 400
    assert client.post(url, data={"note": "called back", "csrf_token": "forged"}).status_code == 400
    with talked.extensions["database"].session() as session:
        assert session.get(QueueItem, item.id).handled_at is None
    # The sign-in form is protected too.
    fresh = talked.test_client()
    response = fresh.post("/dashboard/login", data={"email": ACCOUNTS["admin"], "password": "x"})
    assert response.status_code == 400


def test_roles_are_checked_on_the_server(as_role, talked) -> None:  # noqa: ANN001
    auditor, supervisor = as_role("auditor"), as_role("supervisor")
    for url in ("/dashboard/access", "/dashboard/accounts"):
        assert auditor.get(url).status_code == 403
        assert supervisor.get(url).status_code == 403
    assert post(auditor, "/dashboard/accounts/1/unlock").status_code == 403
    supervisor.get("/dashboard/queue")
    with talked.extensions["database"].session() as session:
        item = session.scalars(select(QueueItem)).first()
    assert post(auditor, f"/dashboard/queue/{item.id}/handle", note="x").status_code == 403
    assert supervisor.get("/dashboard/records").status_code == 403
    assert post(supervisor, "/dashboard/records/export", phone_id="1", format="json").status_code == 403
    page = auditor.get("/dashboard/").get_data(as_text=True)
    assert "Access log" not in page and "Records requests" in page
    with talked.extensions["database"].session() as session:
        exports = session.scalars(select(SupervisorAccess).where(SupervisorAccess.action == "export")).all()
    assert exports == []


def test_security_headers(as_role) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    for url in ("/dashboard/", "/dashboard/login", "/dashboard/conversations"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "<script>" not in page and " style=" not in page and "onclick" not in page


@sqlite_only
def test_production_cookies_are_secure(make_app) -> None:  # noqa: ANN001
    app = make_app(
        BOT_ENV="production",
        AGENCY_PHONE="1-800-555-0142",
        AGENCY_URL="https://childsupport.agency.gov/text",
    )
    add_accounts(app)
    client = app.test_client()
    response = sign_in(client, "admin")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_settings_for_sessions(make_app) -> None:  # noqa: ANN001
    from bot.settings import ConfigError

    assert make_app(DASHBOARD_IDLE_MINUTES="5").extensions["settings"].DASHBOARD_IDLE_MINUTES == 5
    with pytest.raises(ConfigError, match="DASHBOARD_SESSION_HOURS"):
        make_app(DASHBOARD_SESSION_HOURS="0")
