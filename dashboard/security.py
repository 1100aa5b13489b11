"""Who may see what: sessions, CSRF tokens, roles, and the security headers on every response.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure in production). It holds the
supervisor's id, when the session started and when it was last used; past DASHBOARD_IDLE_MINUTES of
inactivity or DASHBOARD_SESSION_HOURS in all, it ends. Polling requests (live updates) do not count as
activity, so an open page left alone still expires.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, g, redirect, request, session, url_for

from bot.extensions import db_session, settings
from dashboard.blueprint import blueprint
from dashboard.fields import check_encoding
from storage.models import Supervisor, SupervisorRole

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_ENDPOINTS = frozenset({"dashboard.sign_in", "dashboard.static"})
# Live-update endpoints: they need a session but do not keep it alive.
POLLING_ENDPOINTS: set[str] = set()
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)


def polling(function: F) -> F:
    """Mark a view as a live-update poll (does not refresh the idle timer)."""
    POLLING_ENDPOINTS.add(f"dashboard.{function.__name__}")
    return function


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def start_session(supervisor: Supervisor) -> None:
    """A fresh session for a supervisor who just signed in (nothing carried over from before)."""
    session.clear()
    session.permanent = True
    now = int(time.time())
    session.update(supervisor=supervisor.id, started=now, seen=now, csrf=secrets.token_urlsafe(32))


def _expired(now: int) -> bool:
    config = settings()
    started, seen = session.get("started", 0), session.get("seen", 0)
    return (
        now - started > config.DASHBOARD_SESSION_HOURS * 3600
        or now - seen > config.DASHBOARD_IDLE_MINUTES * 60
    )


@blueprint.before_request
def _check_csrf_and_session() -> Response | None:
    check_encoding()  # first: what follows reads the form
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        # As bytes: compare_digest refuses str with non-ASCII characters, which a forged token may have.
        if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            abort(400, "the form's security token is missing or out of date: reload the page and try again")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    now = int(time.time())
    supervisor = None
    if "supervisor" in session and not _expired(now):
        supervisor = db_session().get(Supervisor, session["supervisor"])
    if supervisor is None:
        session.pop("supervisor", None)
        if request.endpoint in POLLING_ENDPOINTS:
            abort(401)
        return redirect(url_for("dashboard.sign_in"))
    g.supervisor = supervisor
    if request.endpoint not in POLLING_ENDPOINTS:
        session["seen"] = now
    return None


@blueprint.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "can": can}


ROLE_RIGHTS = {
    "handle_queue": {SupervisorRole.SUPERVISOR, SupervisorRole.ADMIN},
    "export": {SupervisorRole.AUDITOR, SupervisorRole.ADMIN},
    "admin": {SupervisorRole.ADMIN},
}


def can(right: str) -> bool:
    """Whether the signed-in supervisor's role has this right."""
    supervisor = g.get("supervisor")
    return supervisor is not None and supervisor.role in ROLE_RIGHTS[right]


def requires(right: str) -> Callable[[F], F]:
    """Refuse the view (403) unless the supervisor's role has `right`."""

    def decorate(function: F) -> F:
        @wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not can(right):
                abort(403)
            return function(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate
