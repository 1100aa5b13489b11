"""The conversation engine: one inbound text in, at most one templated reply out, both logged.

`handle_inbound` runs in the caller's transaction: the consent event, the inbound record and the
reply record commit together or not at all. A MessageSid seen before gets the reply it got then.

Throttling (INBOUND_PER_MINUTE, issue 7): the sender's one read also counts the number's inbound texts
of the last minute, up to the limit + 1, and looks whether one of the newest TOLD_LOOKBACK of them was
throttled already (two range reads of the exchanges index that stop there, however big the flood).
A text that carries a consent event (opt-out, opt-in, HELP, plain-language revocation, Twilio's
OptOutType), or the one clarifying question about a possible revocation, is always handled as usual.
A text that would otherwise be enrolled, verified or answered, from a number that already sent the
limit in the last minute, is recorded (intent "throttled", consent state as usual) and not processed.
The first such text is told to wait (the "throttled" reply, and one WARNING in the log, never the
number); later ones, while a throttled text is among those newest texts, get an empty <Response/>.
A number whose texts get silence anyway (opted out) is left as it is.
Each read sees what was committed when it began, not the number's texts still in flight on other web
processes: a burst handled at the very same instant may pass the limit by that many texts and be told
once per text in flight, but a throttled number is never left untold (the first throttled text to be
recorded was told). Exactly once would take a per-number lock: a round trip more for every text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import BindParameter, Subquery, bindparam, exists, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import answering
from bot.guard import blocked_reason
from bot.replies import Replies
from bot.settings import DEFAULTS
from consent import ledger
from consent.ledger import ConsentState
from consent.policy import Action, decide
from intents import detect_language
from storage import exchange_log
from storage.case_answers import cases_of
from storage.crypto import DataCipher
from storage.exchange_log import NewExchange
from storage.models import (
    ConsentChannel,
    ConsentKind,
    Direction,
    Exchange,
    Participant,
    PhoneNumber,
    UTCDateTime,
    utcnow,
)
from storage.statements import Statement, one_of

log = logging.getLogger(__name__)
FOUR_DIGITS = re.compile(r"^\s*(\d{4})\s*[.!]?\s*$")
# Guessing 4 digits: 3 tries a day, then only a call to the agency verifies the number.
VERIFY_TRIES = 3
VERIFY_WINDOW = timedelta(hours=24)
# A case chosen by its last 4 digits is remembered this long, then every case is answered again.
CASE_MEMORY = timedelta(minutes=30)
CASE_MEMORY_TEXTS = 10  # ... among the number's last 10 texts (which also bounds what is read)
CASE_QUESTIONS = frozenset({"next_due_date", "last_payment", "next_appointment"})
# The webhook passes the app's setting; this is the same default for other callers.
INBOUND_PER_MINUTE = int(DEFAULTS["INBOUND_PER_MINUTE"])
THROTTLE_WINDOW = timedelta(minutes=1)
THROTTLED = "throttled"  # the intent of a text past the limit, and the template of the one reply to it
# A number is told to wait unless one of its newest texts of the last minute, this many at most, was
# throttled: a fixed lookback, so what it reads does not grow with the limit.
TOLD_LOOKBACK = 10
# What a flood may not trigger past the limit: the actions that reply without a consent event (a
# clarifying question about a possible revocation is asked once, and is part of honouring it).
THROTTLED_ACTIONS = frozenset({Action.ENROLL, Action.VERIFY, Action.ANSWER})
REPLY_TEMPLATE = {
    Action.CONFIRM_OPT_OUT: "opt_out_confirm",
    Action.CONFIRM_OPT_IN: "opt_in_confirm",
    Action.HELP: "help",
    Action.CLARIFY: "revoke_clarify",
    Action.ENROLL: "enroll",
}


@dataclass(frozen=True)
class InboundText:
    """An inbound SMS as the webhook checked it."""

    message_sid: str
    sender: str  # E.164
    body: str
    opt_out_type: str | None = None


@dataclass(frozen=True)
class Reply:
    """What to answer: a text, or None for an empty <Response/>."""

    text: str | None
    template_id: str | None
    intent: str | None
    duplicate: bool = False


@dataclass(frozen=True)
class Sender:
    """Everything the engine reads about a sender, in one round trip: the phone row, its participant (if on
    file) and their language, our last reply's template, the consent state, and what the conversation
    remembers for a while (the case chosen by its last 4 digits, encrypted; the last case question)."""

    phone_id: int
    participant_id: int | None
    language: str | None
    last_template: str | None
    consent: ConsentState = ledger.NO_CONSENT
    choice_enc: str | None = None
    asked: str | None = None
    last_minute: int = 0  # the number's inbound texts in the last minute, counted up to the limit + 1
    told: bool = False  # one of its newest texts of the minute was throttled: the number has been told


_SINCE = bindparam("since", type_=UTCDateTime())
_MINUTE_AGO = bindparam("minute_ago", type_=UTCDateTime())


def _newest_inbound(since: BindParameter[object], rows: int, name: str, *columns: object) -> Subquery:
    """`columns` of the number's newest inbound texts since `since`, `rows` of them at most: a backward
    range read of ix_exchanges_phone_direction_time that stops there."""
    return (
        select(*columns)
        .where(
            Exchange.phone_number_id == PhoneNumber.id,
            Exchange.direction == Direction.INBOUND.value,
            Exchange.occurred_at >= since,
        )
        .order_by(Exchange.occurred_at.desc())
        .limit(rows)
        .correlate(PhoneNumber)
        .subquery(name)
    )


def _recent_inbound(column: str, *criteria: object) -> object:
    """The newest of the number's last CASE_MEMORY_TEXTS inbound texts within CASE_MEMORY that meets the
    criteria: its `column`. An index range read of at most CASE_MEMORY_TEXTS rows."""
    recent = _newest_inbound(
        _SINCE, CASE_MEMORY_TEXTS, "recent", Exchange.intent, Exchange.body_enc, Exchange.occurred_at
    )
    return (
        select(recent.c[column])
        .where(*(criterion(recent) for criterion in criteria))
        .order_by(recent.c.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _last_minute(column: str, rows: int) -> Subquery:
    """`column` of the number's newest inbound texts since :minute_ago, `rows` of them at most."""
    return _newest_inbound(_MINUTE_AGO, rows, "last_minute", getattr(Exchange, column))


def _throttle_columns(limit: int) -> tuple[object, object]:
    """How many texts the number sent in the last minute, counted up to limit + 1 (so a flood of
    thousands costs no more than a number at its limit), and whether one of the newest TOLD_LOOKBACK of
    them was throttled (the number has been told). occurred_at alone lets PostgreSQL count from the
    index; the intent needs the rows."""
    counted = _last_minute("occurred_at", limit + 1)
    newest = _last_minute("intent", TOLD_LOOKBACK)
    return (
        select(func.count()).select_from(counted).scalar_subquery(),
        exists().where(newest.c.intent == THROTTLED),
    )


@cache
def _sender_statement(hashes: int, per_minute: int) -> Statement:
    """Built once per number of data keys (a lookup tries each key's hash) and throttle limit. The
    subqueries read like the (phone_number_id, direction, occurred_at) index, so the newest rows are
    found first."""
    last_template = (
        select(Exchange.template_id)
        .where(Exchange.phone_number_id == PhoneNumber.id, Exchange.direction == Direction.OUTBOUND.value)
        .order_by(Exchange.occurred_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return Statement(
        select(
            PhoneNumber.id,
            PhoneNumber.participant_id,
            Participant.language,
            last_template,
            *ledger.state_columns(PhoneNumber.id),
            _recent_inbound("body_enc", lambda recent: recent.c.intent == "case_choice"),
            _recent_inbound("intent", lambda recent: one_of(recent.c.intent, sorted(CASE_QUESTIONS))),
            *_throttle_columns(per_minute),
        )
        .outerjoin(Participant, Participant.id == PhoneNumber.participant_id)
        .where(PhoneNumber.lookup_hash.in_([bindparam(f"hash_{n}") for n in range(hashes)]))
        .limit(1)
    )


_NEW_PHONE = Statement(
    insert(PhoneNumber)
    .values(
        lookup_hash=bindparam("lookup_hash"),
        number_enc=bindparam("number_enc"),
        created_at=bindparam("created_at"),
    )
    .returning(PhoneNumber.id)
)


def _find_sender(connection: Connection, cipher: DataCipher, number: str, per_minute: int) -> Sender | None:
    hashes = cipher.lookup_hashes(number)
    params = {f"hash_{n}": digest for n, digest in enumerate(hashes)}
    now = utcnow()
    params["since"] = now - CASE_MEMORY
    params["minute_ago"] = now - THROTTLE_WINDOW
    found = _sender_statement(len(hashes), per_minute).first(connection, params)
    if found is None:
        return None
    phone_id, participant_id, language, last_template, latest, verified, choice_enc, asked = found[:8]
    texts, told = found[8:]
    return Sender(
        phone_id,
        participant_id,
        language,
        last_template,
        ledger.state_of(latest, verified),
        choice_enc,
        asked,
        texts,
        bool(told),
    )


def _sender(connection: Connection, cipher: DataCipher, number: str, per_minute: int) -> Sender:
    found = _find_sender(connection, cipher, number, per_minute)
    if found is not None:
        return found
    params = {
        "lookup_hash": cipher.lookup_hash(number),
        "number_enc": cipher.encrypt(number),
        "created_at": utcnow(),
    }
    (phone_id,) = _NEW_PHONE.first(connection, params)
    return Sender(phone_id, None, None, None)


# Built once (composing a statement costs more than running it). Only up to VERIFY_TRIES rows are read:
# a number that guessed wrong a thousand times costs no more than one that guessed wrong three times.
_FAILED_TRIES = Statement(
    select(Exchange.id)
    .where(
        Exchange.phone_number_id == bindparam("phone"),
        Exchange.direction == Direction.INBOUND.value,
        Exchange.occurred_at >= bindparam("since"),
        Exchange.intent == "case_digits_wrong",
    )
    .order_by(Exchange.occurred_at.desc())
    .limit(VERIFY_TRIES)
)


def _failed_tries(connection: Connection, phone_id: int) -> int:
    return len(_FAILED_TRIES.rows(connection, {"phone": phone_id, "since": utcnow() - VERIFY_WINDOW}))


def _verify(
    connection: Connection, sender: Sender, inbound: InboundText, last: str | None
) -> tuple[str, str]:
    """Verification by the last 4 digits of a case number: (intent, template id)."""
    if sender.participant_id is None:
        return "unverified", "verify_unknown"
    tries = _failed_tries(connection, sender.phone_id)
    if tries >= VERIFY_TRIES:
        return "unverified", "verify_locked"
    digits = FOUR_DIGITS.match(inbound.body)
    if digits is None or last not in ("verify_ask", "verify_retry"):
        return "unverified", "verify_ask"
    if digits.group(1) in {case.last4 for case in cases_of(connection, sender.participant_id)}:
        ledger.record_new(
            connection,
            sender.phone_id,
            ConsentKind.VERIFICATION,
            ConsentChannel.SMS_CASE_DIGITS,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|verification",
        )
        return "case_digits", "verify_ok"
    return "case_digits_wrong", "verify_locked" if tries + 1 >= VERIFY_TRIES else "verify_retry"


def _text_language(text: str) -> str | None:
    """The text's own language when it is clear ("hola" is Spanish), else None."""
    guess = detect_language(text)
    return guess.language if guess.clear else None


def _case_context(cipher: DataCipher, sender: Sender) -> tuple[str | None, str | None]:
    """What the conversation remembers for a while: the case chosen by its last 4 digits, and the
    last case question asked (so a bare "0871" can answer it)."""
    choice = None if sender.choice_enc is None else cipher.decrypt(sender.choice_enc).strip()[:4]
    return choice, sender.asked


def _previous_reply(session: Session, cipher: DataCipher, inbound_record: Exchange) -> Reply:
    reply = exchange_log.reply_to(session, inbound_record)
    if reply is None:
        return Reply(None, None, inbound_record.intent, duplicate=True)
    return Reply(cipher.decrypt(reply.body_enc), reply.template_id, inbound_record.intent, duplicate=True)


def handle_inbound(
    connection: Connection,
    cipher: DataCipher,
    replies: Replies,
    inbound: InboundText,
    *,
    check_duplicate: bool = True,
    per_minute: int = INBOUND_PER_MINUTE,
) -> Reply:
    """Decide, record and log one inbound text; return the reply (already logged).

    Every read comes first and the exchange log's append last: its lock is held until commit. Every
    statement runs through storage.statements, and none reads what this text wrote, so the caller may
    batch the writes (the webhook does: one statement reads the sender, one records the consent event
    and takes the chain lock, one writes the log and moves its head; then the COMMIT).
    check_duplicate=False skips looking the MessageSid up first: a repeat then fails on the unique keys
    (consent event, exchange) and the caller runs it again with the check (Twilio retries are rare).
    per_minute: the INBOUND_PER_MINUTE setting (see the module's docstring).
    """
    if check_duplicate:
        with Session(bind=connection) as session:
            seen = exchange_log.find_inbound(session, inbound.message_sid)
            if seen is not None:
                return _previous_reply(session, cipher, seen)

    sender = _sender(connection, cipher, inbound.sender, per_minute)
    before = sender.consent
    last = sender.last_template
    decision = decide(
        inbound.body, before, opt_out_type=inbound.opt_out_type, clarify_asked=last == "revoke_clarify"
    )
    after = before
    if decision.event is not None:
        ledger.record_new(
            connection,
            sender.phone_id,
            decision.event,
            decision.channel,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|{decision.event.value}",
        )
        after = ledger.apply(before, decision.event, decision.channel)

    intent, template_id = decision.intent, REPLY_TEMPLATE.get(decision.action)
    fields: dict[str, str] = {}
    throttled = decision.action in THROTTLED_ACTIONS and sender.last_minute >= per_minute
    told = throttled and not sender.told  # the first text past the limit is told to wait
    # Keywords say nothing of language (carriers tell everyone to text STOP); other texts may.
    # The answering step judges the text's language itself; other replies only need it without an event;
    # a throttled text only when it is told to slow down.
    needs_text_language = (
        told if throttled else decision.event is None and decision.action is not Action.ANSWER
    )
    text_language = _text_language(inbound.body) if needs_text_language else None
    language = decision.language or text_language or sender.language or "en"
    if throttled:
        # Recorded, not processed: the first text past the limit is told to slow down, then silence.
        intent, template_id = THROTTLED, THROTTLED if told else None
        if told:  # never the number, its hash or the text: the exchange log keeps those
            log.warning("sms throttled: a number passed %d texts a minute", per_minute)
    elif decision.action is Action.VERIFY:
        intent, template_id = _verify(connection, sender, inbound, last)
        if intent == "case_digits":
            after = ledger.apply(after, ConsentKind.VERIFICATION, ConsentChannel.SMS_CASE_DIGITS)
    elif decision.action is Action.ANSWER:
        if sender.participant_id is None:  # verified once, but the number has since left the case data
            template_id = "verify_unknown"
        else:
            choice, asked = _case_context(cipher, sender)
            digits = FOUR_DIGITS.match(inbound.body)
            if digits is not None and asked is not None:
                # A bare "0871" after a case question: that case, for the question they asked.
                answered = answering.answer(
                    connection,
                    sender.participant_id,
                    sender.language,
                    inbound.body,
                    case_last4=digits.group(1),
                    intent=asked,
                )
                intent = "case_choice"
            else:
                answered = answering.answer(
                    connection, sender.participant_id, sender.language, inbound.body, case_last4=choice
                )
                intent = answered.intent
            template_id, fields, language = answered.template_id, answered.fields, answered.language

    received = NewExchange(
        direction=Direction.INBOUND,
        phone_number_id=sender.phone_id,
        body=inbound.body,
        consent_state=before.label,
        message_sid=inbound.message_sid,
        intent=intent,
    )
    if template_id is None:
        exchange_log.append(connection, cipher, received)
        return Reply(None, None, intent)
    text = replies.render(template_id, language, **fields)
    blocked = blocked_reason(text)
    if blocked is not None:
        # Never the text in the log: only which check stopped it, and where it is recorded.
        log.warning(
            "reply blocked by the guard (%s); sent the safe fallback (template %s)", blocked, template_id
        )
        template_id, text = "safe_fallback", replies.render("safe_fallback", language)
    answer = NewExchange(
        direction=Direction.OUTBOUND,
        phone_number_id=sender.phone_id,
        body=text,
        consent_state=after.label,
        template_id=template_id,
        delivery_status="twiml",
        blocked_reason=blocked,
    )
    exchange_log.append(connection, cipher, received, answer)
    return Reply(text, template_id, intent)
