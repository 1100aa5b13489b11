"""Admins' pages: the access log (who saw, revealed or exported what, when) and the accounts."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.extensions import db_session
from dashboard.blueprint import blueprint
from dashboard.fields import whole_number
from dashboard.security import requires
from dashboard.work import work
from storage import access_log, supervisors
from storage.access_log import AccessAction
from storage.models import Supervisor, utcnow

PAGE = 100


@blueprint.get("/access")
@requires("admin")
def access_page() -> str:
    """The access log, newest first (?before=ID for older entries)."""
    before = whole_number(request.args.get("before", ""))
    entries = access_log.page(db_session(), before_id=before, size=PAGE)
    older = entries[-1].id if len(entries) == PAGE else None
    return render_template("dashboard/access.html", entries=entries, older=older)


@blueprint.get("/accounts")
@requires("admin")
def accounts_page() -> str:
    """Every account, its role, and whether it is locked."""
    accounts = list(db_session().scalars(select(Supervisor).order_by(Supervisor.email)))
    return render_template("dashboard/accounts.html", accounts=accounts, now=utcnow())


@blueprint.post("/accounts/<id:supervisor_id>/unlock")
@requires("admin")
def unlock_account(supervisor_id: int) -> Response:
    """Clear an account's lock (recorded)."""
    with work() as db:
        if supervisors.unlock(db, supervisor_id) is None:
            abort(404)
        access_log.record(db, g.supervisor.id, AccessAction.UNLOCK_ACCOUNT, f"supervisor #{supervisor_id}")
    flash("Account unlocked.")
    return redirect(url_for("dashboard.accounts_page"))
