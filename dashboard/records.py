"""Records requests: export one number's full history or a date range, decrypted, with the hash-chain
check; auditors and admins only; every export is recorded in the access log."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from bot.extensions import cipher
from dashboard.blueprint import blueprint
from dashboard.fields import day, whole_number
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
    return render_template("dashboard/records.html", message=None)


class _Refused(Exception):
    """The form cannot be met as filled in; the message says which field is wrong and how."""


def _phone_id(db: Session) -> int | None:
    """The phone row the form names (phone_id, else a typed phone number), or None for a date range."""
    form = request.form
    if form.get("phone_id", "").strip():
        phone_id = whole_number(form["phone_id"])
        if phone_id is None:
            raise _Refused("phone_id must be a conversation's id, a whole number.")
        if db.get(PhoneNumber, phone_id) is None:
            abort(404)
        return phone_id
    if form.get("phone", "").strip():
        try:
            number = parse_phone(form["phone"])
        except FieldError as exc:  # its reason never repeats the number
            raise _Refused(f"The phone number {exc}.") from None
        stored = find_phone(db, cipher(), number)
        return None if stored is None else stored.id
    return None


def _days() -> tuple[date, date]:
    """The form's first and last day (both included)."""
    since, until = request.form.get("since", ""), request.form.get("until", "")
    if not since.strip() and not until.strip():
        raise _Refused("Give a phone number, or a first day (since) and a last day (until).")
    found = []
    for value, label in ((since, "first day (since)"), (until, "last day (until)")):
        if not value.strip():
            raise _Refused(f"The {label} is missing.")
        parsed = day(value)
        if parsed is None:
            raise _Refused(f"The {label} is not a date written YYYY-MM-DD.")
        found.append(parsed)
    if found[1] < found[0]:
        raise _Refused("The last day (until) is before the first day (since).")
    return found[0], found[1]


@blueprint.post("/records/export")
@requires("export")
def export() -> Response | tuple[str, int]:
    """Build the export the form asked for and send it as a download; a form filled in wrongly is
    shown again (400) with what is wrong in it."""
    fmt = request.form.get("format", "json")
    try:
        if fmt not in records.FORMATS:
            raise _Refused("The format must be json or csv.")
        with work() as db:
            phone_id = _phone_id(db)
            if phone_id is not None:
                found = records.for_phone(db, cipher(), phone_id)
                target, name = f"phone #{phone_id}", f"records-phone-{phone_id}"
            elif request.form.get("phone", "").strip():  # a good number, nothing stored for it
                flash("No records for that number.")
                return redirect(url_for("dashboard.records_page"))
            else:
                since, until = _days()
                found = records.for_range(db, cipher(), since, until)
                target, name = f"range {since}..{until}", f"records-{since}-{until}"
            access_log.record(
                db, g.supervisor.id, AccessAction.EXPORT, target, f"web, {fmt}, {found.describe()}"
            )
    except _Refused as refused:
        return render_template("dashboard/records.html", message=str(refused)), 400
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Response(
        records.render(found, fmt),
        mimetype=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"'},
    )
