"""Records requests: export one number's full history or a date range, decrypted, with the hash-chain
check; auditors and admins only; every export is recorded in the access log."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from bot.extensions import cipher
from dashboard.blueprint import blueprint
from dashboard.security import requires
from dashboard.work import work
from storage import access_log, records
from storage.access_log import AccessAction
from storage.fields import FieldError, parse_phone
from storage.models import PhoneNumber, utcnow
from storage.phones import find_phone

MEDIA = {"json": "application/json", "csv": "text/csv"}


@blueprint.get("/records")
@requires("export")
def records_page() -> str:
    """The export form."""
    return render_template("dashboard/records.html")


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


@blueprint.post("/records/export")
@requires("export")
def export() -> Response:
    """Build the export the form asked for and send it as a download."""
    fmt = request.form.get("format", "json")
    if fmt not in records.FORMATS:
        abort(400, "format must be json or csv")
    with work() as db:
        phone_id: int | None = None
        if request.form.get("phone_id", "").isdigit():
            phone_id = int(request.form["phone_id"])
            if db.get(PhoneNumber, phone_id) is None:
                abort(404)
        elif request.form.get("phone", "").strip():
            try:
                stored = find_phone(db, cipher(), parse_phone(request.form["phone"]))
            except FieldError:
                stored = None
            if stored is None:
                flash("No records for that number.")
                return redirect(url_for("dashboard.records_page"))
            phone_id = stored.id
        if phone_id is not None:
            found = records.for_phone(db, cipher(), phone_id)
            target, name = f"phone #{phone_id}", f"records-phone-{phone_id}"
        else:
            since, until = _day("since"), _day("until")
            if since is None or until is None or until < since:
                flash("Give a number, or a first and a last day (the last on or after the first).")
                return redirect(url_for("dashboard.records_page"))
            found = records.for_range(db, cipher(), since, until)
            target, name = f"range {since}..{until}", f"records-{since}-{until}"
        access_log.record(db, g.supervisor.id, AccessAction.EXPORT, target, f"web, {fmt}, {found.describe()}")
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Response(
        records.render(found, fmt),
        mimetype=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"'},
    )
