"""Signing in and out of the dashboard."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from flask import Response, redirect, render_template, request, session, url_for

from bot.extensions import settings
from dashboard.blueprint import blueprint
from dashboard.security import csrf_token, start_session
from dashboard.work import work
from storage import access_log, supervisors
from storage.access_log import AccessAction
from storage.supervisors import SignIn

log = logging.getLogger(__name__)
MESSAGES = {
    SignIn.REFUSED: "That email and password do not match an account.",
    SignIn.LOCKED: "Too many failed sign-ins: this account is locked for a while. An admin can unlock it.",
    SignIn.THROTTLED: "Too many failed sign-ins from here. Wait a few minutes and try again.",
}
# No email address holds a control character (PostgreSQL refuses NUL in text): not a sign-in attempt.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _client_hash() -> str:
    # A keyed hash: the throttle needs to recognise a client, not to store its address.
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(settings().SECRET_KEY.encode(), address, hashlib.sha256).hexdigest()


@blueprint.route("/login", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    """The sign-in page; on success, a new session and the overview."""
    if request.method == "GET":
        csrf_token()
        return render_template("dashboard/sign_in.html", message=None)
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:1024]
    if CONTROL_CHARACTERS.search(email.strip()):
        message = "The email address has control characters in it: type it again."
        return render_template("dashboard/sign_in.html", message=message), 400
    with work() as db:
        result = supervisors.authenticate(db, email, password, _client_hash())
        if result.supervisor is not None:
            access_log.record(db, result.supervisor.id, AccessAction.SIGN_IN, "dashboard")
    if result.supervisor is None:
        log.info("dashboard sign-in refused (%s)", result.outcome)
        status = 429 if result.outcome is SignIn.THROTTLED else 401
        return render_template("dashboard/sign_in.html", message=MESSAGES[result.outcome]), status
    start_session(result.supervisor)
    return redirect(url_for("dashboard.overview"))


@blueprint.post("/logout")
def sign_out() -> Response:
    """End the session."""
    session.clear()
    return redirect(url_for("dashboard.sign_in"))
