"""Dashboard fixtures: accounts of each role, signed-in clients, and conversations made through the
real webhook (tests.webhooks.conftest.send)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from werkzeug.security import generate_password_hash

from storage.models import Supervisor
from tests.webhooks.conftest import (  # noqa: F401 - fixtures
    VERIFIED_EN,
    VERIFIED_EN_IVR,
    demo_app,
    make_app,
    send,
)

PASSWORD = "correct horse battery staple"
# Hashed once per run: scrypt is slow on purpose, and every test needs these accounts.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
ACCOUNTS = {"supervisor": "sam@agency.gov", "auditor": "ada@agency.gov", "admin": "root@agency.gov"}
SCRIPT_TEXT = "<script>alert(1)</script>"
IMG_TEXT = "<img src=x onerror=alert(1)>"


def add_accounts(app: Flask) -> dict[str, int]:
    """One account per role; returns their ids by role."""
    ids = {}
    with app.extensions["database"].transaction() as session:
        for role, email in ACCOUNTS.items():
            supervisor = Supervisor(email=email, role=role, password_hash=PASSWORD_HASH, failed_logins=0)
            session.add(supervisor)
            session.flush()
            ids[role] = supervisor.id
    return ids


def csrf_of(client: Any) -> str:
    """The CSRF token of the client's session (fetching the sign-in page makes one)."""
    with client.session_transaction() as session:
        token = session.get("csrf")
    if token is None:
        page = client.get("/dashboard/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return token


def sign_in(client: Any, role: str, password: str = PASSWORD) -> Any:
    """Sign in through the form; returns the response."""
    return client.post(
        "/dashboard/login",
        data={"email": ACCOUNTS[role], "password": password, "csrf_token": csrf_of(client)},
    )


def post(client: Any, url: str, **data: str) -> Any:
    """A form POST carrying the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_of(client), **data})


def talk(client: Any) -> None:
    """Realistic conversations: an agent request, two texts not understood (script and img tags), a
    plain-language revocation from another number."""
    send(client, VERIFIED_EN, "hello")
    send(client, VERIFIED_EN, "I need to talk to a person")
    send(client, VERIFIED_EN, SCRIPT_TEXT)
    send(client, VERIFIED_EN, IMG_TEXT)
    send(client, VERIFIED_EN_IVR, "when is my next payment due")
    send(client, VERIFIED_EN_IVR, "please stop texting me")


@pytest.fixture
def accounts(demo_app: Flask) -> dict[str, int]:  # noqa: F811 - the imported fixture
    """The demo app with one account per role."""
    return add_accounts(demo_app)


@pytest.fixture
def talked(demo_app: Flask, accounts: dict[str, int]) -> Flask:  # noqa: F811 - the imported fixture
    """The demo app with accounts and conversations."""
    talk(demo_app.test_client())
    return demo_app


@pytest.fixture
def as_role(talked: Flask):  # noqa: ANN201 - a function
    """A client signed in with the given role's account."""

    def make(role: str) -> Any:
        client = talked.test_client()
        assert sign_in(client, role).status_code == 302
        return client

    return make
