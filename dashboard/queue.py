"""The work queue: what needs a person (agent requests, texts not understood twice in a row, plain-
language revocations, delivery failures), newest first; a supervisor marks an item handled with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.extensions import cipher, db_session
from dashboard import sync
from dashboard.blueprint import blueprint
from dashboard.conversations import numbers_for, shown_number
from dashboard.fields import whole_number
from dashboard.security import requires
from dashboard.work import work
from storage import access_log
from storage.access_log import AccessAction
from storage.models import Exchange, QueueItem, Supervisor, utcnow

PAGE = 50
NOTE_MAX = 1000


@dataclass(frozen=True)
class Entry:
    """One queue item as the page shows it."""

    id: int
    kind: str
    phone_id: int
    number: str
    occurred_at: datetime
    text: str
    handled_at: datetime | None
    handled_by: str | None
    note: str | None


def _page(handled: bool, page: int) -> tuple[list[Entry], bool]:
    db = db_session()
    query = (
        select(QueueItem, Supervisor.email)
        .outerjoin(Supervisor, Supervisor.id == QueueItem.handled_by)
        .where(QueueItem.handled_at.is_not(None) if handled else QueueItem.handled_at.is_(None))
        .order_by(QueueItem.occurred_at.desc(), QueueItem.id.desc())
        .offset((page - 1) * PAGE)
        .limit(PAGE + 1)
    )
    found = db.execute(query).all()
    more, found = len(found) > PAGE, found[:PAGE]
    numbers = numbers_for({item.phone_number_id for item, _ in found})
    seqs = [int(item.source.split(":")[1]) for item, _ in found if item.source.startswith("exchange:")]
    bodies = dict(
        db.execute(select(Exchange.chain_seq, Exchange.body_enc).where(Exchange.chain_seq.in_(seqs))).all()
    )
    entries = []
    for item, email in found:
        seq = int(item.source.split(":")[1]) if item.source.startswith("exchange:") else None
        entries.append(
            Entry(
                item.id,
                item.kind,
                item.phone_number_id,
                shown_number(item.phone_number_id, numbers.get(item.phone_number_id, "")),
                item.occurred_at,
                cipher().decrypt(bodies[seq]) if seq in bodies else "(an outbound notice)",
                item.handled_at,
                email,
                cipher().decrypt(item.note_enc) if item.note_enc else None,
            )
        )
    return entries, more


@blueprint.get("/queue")
def queue_page() -> str:
    """Open items (or, with ?show=handled, handled ones), newest first."""
    with work() as db:
        sync.sync(db)
    handled = request.args.get("show") == "handled"
    page = whole_number(request.args.get("page", "")) or 1
    entries, more = _page(handled, page)
    return render_template("dashboard/queue.html", entries=entries, more=more, handled=handled, page=page)


@blueprint.post("/queue/<id:item_id>/handle")
@requires("handle_queue")
def handle_item(item_id: int) -> Response:
    """Mark an item handled, with the supervisor's note (required)."""
    note = request.form.get("note", "").strip()
    if not note or len(note) > NOTE_MAX:
        abort(400, f"a note of 1 to {NOTE_MAX} characters is required")
    with work() as db:
        item = db.scalars(select(QueueItem).where(QueueItem.id == item_id).with_for_update()).one_or_none()
        if item is None:
            abort(404)
        if item.handled_at is None:
            item.handled_at, item.handled_by = utcnow(), g.supervisor.id
            item.note_enc = cipher().encrypt(note)
            db.flush()
            sync.count_open_items(db, [item.phone_number_id])
            access_log.record(db, g.supervisor.id, AccessAction.HANDLE_QUEUE_ITEM, f"queue item #{item.id}")
        phone_id = item.phone_number_id
    flash("Marked handled.")
    if request.form.get("back") == "transcript":
        return redirect(url_for("dashboard.transcript", phone_id=phone_id))
    return redirect(url_for("dashboard.queue_page"))
