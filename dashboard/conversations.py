"""Conversations: the list (newest first, filtered), a transcript per number, and revealing a number.

A conversation is known by its phone_numbers.id in every URL; the number itself is shown masked to its
last 4 digits unless the supervisor reveals it (a POST, recorded, good for REVEAL_FOR).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime

from flask import Response, abort, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from bot.extensions import cipher, db_session
from consent import ledger
from consent.ledger import ConsentStatus
from dashboard import sync
from dashboard.blueprint import blueprint
from dashboard.fields import day, whole_number
from dashboard.security import polling
from dashboard.work import work
from storage import access_log, records
from storage.access_log import AccessAction
from storage.models import Conversation, Exchange, PhoneNumber, QueueItem

PAGE = 50
TRANSCRIPT_PAGE = 100
REVEAL_FOR = 10 * 60  # seconds a revealed number stays shown
CONSENT_STATES = (
    "opted_in_verified",
    "opted_in_unverified",
    ConsentStatus.OPTED_OUT.value,
    ConsentStatus.NEVER_OPTED_IN.value,
)
INTENTS = (
    "next_due_date", "last_payment", "next_appointment", "payment_options", "office_info",
    "agent_request", "update_info", "documents", "greet", "thanks", "help", "out_of_scope",
    "stop_keyword", "start_keyword", "help_keyword", "plain_language_revocation", "unclear_revocation",
    "not_enrolled", "unverified", "case_digits", "case_digits_wrong", "case_choice",
)  # fmt: skip
PREVIEW = 80


def mask(number: str) -> str:
    """A phone number shown by its last 4 digits only."""
    return "•••-•••-" + number[-4:]


def numbers_for(phone_ids: set[int]) -> dict[int, str]:
    """Decrypt the numbers of these phone rows (only the rows on the page)."""
    if not phone_ids:
        return {}
    rows = db_session().execute(
        select(PhoneNumber.id, PhoneNumber.number_enc).where(PhoneNumber.id.in_(phone_ids))
    )
    return {phone_id: cipher().decrypt(encrypted) for phone_id, encrypted in rows}


def revealed(phone_id: int) -> bool:
    """Whether this session revealed the number lately."""
    at = session.get("revealed", {}).get(str(phone_id))
    return at is not None and time.time() - at < REVEAL_FOR


def shown_number(phone_id: int, number: str) -> str:
    """The number as this session may see it."""
    return number if revealed(phone_id) else mask(number)


@dataclass(frozen=True)
class Filters:
    """The list's filters, from the query string (bad values are ignored)."""

    consent: str | None
    intent: str | None
    since: date | None
    until: date | None
    flag: str | None
    page: int

    @classmethod
    def from_request(cls) -> Filters:
        args = request.args
        consent = args.get("consent") if args.get("consent") in CONSENT_STATES else None
        intent = args.get("intent") if args.get("intent") in INTENTS else None
        flag = args.get("flag") if args.get("flag") in ("open", "none") else None
        page = whole_number(args.get("page", "")) or 1
        return cls(consent, intent, day(args.get("since", "")), day(args.get("until", "")), flag, page)

    def args(self, **changes: object) -> dict[str, str]:
        """The filters as query arguments, with changes (for links)."""
        values = {
            "consent": self.consent,
            "intent": self.intent,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "flag": self.flag,
            "page": str(self.page) if self.page > 1 else None,
        }
        values.update({k: (None if v is None else str(v)) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Row:
    """One conversation as the list shows it."""

    phone_id: int
    number: str
    last_at: datetime
    last_intent: str | None
    consent_state: str
    messages: int
    open_items: int
    preview: str


def _synced() -> None:
    with work() as db:
        sync.sync(db)


def _rows(filters: Filters) -> tuple[list[Row], bool]:
    query = select(Conversation)
    if filters.consent:
        query = query.where(Conversation.consent_state == filters.consent)
    if filters.intent:
        query = query.where(Conversation.last_intent == filters.intent)
    if filters.since:
        query = query.where(Conversation.last_at >= records.day_range(filters.since, filters.since)[0])
    if filters.until:
        query = query.where(Conversation.first_at < records.day_range(filters.until, filters.until)[1])
    if filters.flag == "open":
        query = query.where(Conversation.open_items > 0)
    elif filters.flag == "none":
        query = query.where(Conversation.open_items == 0)
    query = (
        query.order_by(Conversation.last_at.desc(), Conversation.phone_number_id.desc())
        .offset((filters.page - 1) * PAGE)
        .limit(PAGE + 1)
    )
    db = db_session()
    found = list(db.scalars(query))
    more, found = len(found) > PAGE, found[:PAGE]
    numbers = numbers_for({c.phone_number_id for c in found})
    bodies = dict(
        db.execute(
            select(Exchange.chain_seq, Exchange.body_enc).where(
                Exchange.chain_seq.in_([c.last_inbound_seq for c in found if c.last_inbound_seq])
            )
        ).all()
    )
    rows = []
    for c in found:
        text = cipher().decrypt(bodies[c.last_inbound_seq]) if c.last_inbound_seq in bodies else ""
        rows.append(
            Row(
                c.phone_number_id,
                shown_number(c.phone_number_id, numbers.get(c.phone_number_id, "")),
                c.last_at,
                c.last_intent,
                c.consent_state,
                c.messages,
                c.open_items,
                text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…",
            )
        )
    return rows, more


@blueprint.get("/conversations")
def conversation_list() -> str:
    """Every conversation, the most recent first, with filters; updates itself while open."""
    _synced()
    filters = Filters.from_request()
    rows, more = _rows(filters)
    return render_template(
        "dashboard/conversations.html",
        rows=rows,
        more=more,
        filters=filters,
        consent_states=CONSENT_STATES,
        intents=INTENTS,
    )


@blueprint.get("/conversations/rows")
@polling
def conversation_rows() -> str:
    """The list's rows alone, for live updates."""
    _synced()
    rows, _ = _rows(Filters.from_request())
    return render_template("dashboard/conversation_rows.html", rows=rows)


@dataclass(frozen=True)
class Message:
    """One message of a transcript, decrypted for display."""

    seq: int
    occurred_at: datetime
    direction: str
    body: str
    intent: str | None
    template_id: str | None
    delivery_status: str | None
    consent_state: str
    blocked_reason: str | None


def _messages(phone_id: int, *, after: int | None = None, before: int | None = None) -> list[Message]:
    query = select(Exchange).where(Exchange.phone_number_id == phone_id)
    if after is not None:
        query = query.where(Exchange.chain_seq > after).order_by(Exchange.chain_seq).limit(TRANSCRIPT_PAGE)
    else:
        if before is not None:
            query = query.where(Exchange.chain_seq < before)
        query = query.order_by(Exchange.chain_seq.desc()).limit(TRANSCRIPT_PAGE)
    found = sorted(db_session().scalars(query), key=lambda e: e.chain_seq)
    return [
        Message(
            e.chain_seq,
            e.occurred_at,
            e.direction,
            cipher().decrypt(e.body_enc),
            e.intent,
            e.template_id,
            e.delivery_status,
            e.consent_state,
            e.blocked_reason,
        )
        for e in found
    ]


def _phone_or_404(phone_id: int) -> str:
    number = numbers_for({phone_id}).get(phone_id)
    if number is None:
        abort(404)
    return number


@blueprint.get("/conversations/<id:phone_id>")
def transcript(phone_id: int) -> str:
    """Every message of one number, with the consent history beside it; updates itself while open."""
    number = _phone_or_404(phone_id)
    before = whole_number(request.args.get("before", ""))
    messages = _messages(phone_id, before=before)
    db = db_session()
    history = ledger.history(db, phone_id)
    state = ledger.current_state(db, phone_id)
    items = list(
        db.scalars(
            select(QueueItem)
            .where(QueueItem.phone_number_id == phone_id, QueueItem.handled_at.is_(None))
            .order_by(QueueItem.occurred_at.desc())
        )
    )
    with work() as log_session:
        access_log.record(log_session, g.supervisor.id, AccessAction.VIEW_TRANSCRIPT, f"phone #{phone_id}")
    return render_template(
        "dashboard/transcript.html",
        phone_id=phone_id,
        number=shown_number(phone_id, number),
        is_revealed=revealed(phone_id),
        messages=messages,
        older=messages[0].seq if len(messages) == TRANSCRIPT_PAGE else None,
        latest=before is None,
        last_seq=messages[-1].seq if messages else 0,
        history=history,
        state=state,
        items=items,
    )


@blueprint.get("/conversations/<id:phone_id>/messages")
@polling
def transcript_messages(phone_id: int) -> Response:
    """Messages after ?after=SEQ, as rows to append (live updates); X-Last-Seq says where they end."""
    after = whole_number(request.args.get("after", "")) or 0
    messages = _messages(phone_id, after=after)
    html = render_template("dashboard/message_rows.html", messages=messages)
    response = Response(html, mimetype="text/html")
    response.headers["X-Last-Seq"] = str(messages[-1].seq if messages else after)
    return response


@blueprint.post("/conversations/<id:phone_id>/reveal")
def reveal(phone_id: int) -> Response:
    """Show the full number for a while; the reveal is recorded."""
    _phone_or_404(phone_id)
    with work() as db:
        access_log.record(db, g.supervisor.id, AccessAction.REVEAL_NUMBER, f"phone #{phone_id}")
    shown = dict(session.get("revealed", {}))
    now = time.time()
    shown = {k: v for k, v in shown.items() if now - v < REVEAL_FOR}
    shown[str(phone_id)] = now
    session["revealed"] = shown
    return redirect(url_for("dashboard.transcript", phone_id=phone_id))
