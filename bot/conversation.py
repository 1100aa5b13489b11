"""The conversation engine: one inbound text in, at most one templated reply out, both logged.

`handle_inbound` runs in the caller's transaction: the consent event, the inbound record and the
reply record commit together or not at all. A MessageSid seen before gets the reply it got then.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot import answering
from bot.guard import blocked_reason
from bot.replies import Replies
from consent import ledger
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
    utcnow,
)

log = logging.getLogger(__name__)
FOUR_DIGITS = re.compile(r"^\s*(\d{4})\s*[.!]?\s*$")
# Guessing 4 digits: 3 tries a day, then only a call to the agency verifies the number.
VERIFY_TRIES = 3
VERIFY_WINDOW = timedelta(hours=24)
# A case chosen by its last 4 digits is remembered this long, then every case is answered again.
CASE_MEMORY = timedelta(minutes=30)
CASE_QUESTIONS = frozenset({"next_due_date", "last_payment", "next_appointment"})
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
    """The sender's phone row, its participant (if on file), their language, and our last reply's template."""

    phone_id: int
    participant_id: int | None
    language: str | None
    last_template: str | None


# Built once: composing a statement costs more than running it. The last template comes along in the same
# round trip, read like the (phone_number_id, occurred_at) index so the newest row is found first.
_LAST_TEMPLATE = (
    select(Exchange.template_id)
    .where(Exchange.phone_number_id == PhoneNumber.id, Exchange.direction == Direction.OUTBOUND.value)
    .order_by(Exchange.occurred_at.desc())
    .limit(1)
    .scalar_subquery()
)
_SENDER = (
    select(PhoneNumber.id, PhoneNumber.participant_id, Participant.language, _LAST_TEMPLATE)
    .outerjoin(Participant, Participant.id == PhoneNumber.participant_id)
    .where(PhoneNumber.lookup_hash.in_(bindparam("hashes", expanding=True)))
    .limit(1)
)


def _find_sender(session: Session, cipher: DataCipher, number: str) -> Sender | None:
    found = session.connection().execute(_SENDER, {"hashes": cipher.lookup_hashes(number)}).first()
    return None if found is None else Sender(*found)


def _sender(session: Session, cipher: DataCipher, number: str) -> Sender:
    found = _find_sender(session, cipher, number)
    if found is not None:
        return found
    phone = PhoneNumber(lookup_hash=cipher.lookup_hash(number), number_enc=cipher.encrypt(number))
    session.add(phone)
    session.flush()
    return Sender(phone.id, None, None, None)


# Built once (composing a statement costs more than running it). Only up to VERIFY_TRIES rows are read:
# a number that guessed wrong a thousand times costs no more than one that guessed wrong three times.
_FAILED_TRIES = (
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
_RECENT_INBOUND = (
    select(Exchange.intent, Exchange.body_enc)
    .where(
        Exchange.phone_number_id == bindparam("phone"),
        Exchange.direction == Direction.INBOUND.value,
        Exchange.occurred_at >= bindparam("since"),
    )
    .order_by(Exchange.occurred_at.desc())
    .limit(10)
)


def _failed_tries(session: Session, phone_id: int) -> int:
    return len(
        session.connection()
        .execute(_FAILED_TRIES, {"phone": phone_id, "since": utcnow() - VERIFY_WINDOW})
        .all()
    )


def _verify(session: Session, sender: Sender, inbound: InboundText, last: str | None) -> tuple[str, str]:
    """Verification by the last 4 digits of a case number: (intent, template id)."""
    if sender.participant_id is None:
        return "unverified", "verify_unknown"
    tries = _failed_tries(session, sender.phone_id)
    if tries >= VERIFY_TRIES:
        return "unverified", "verify_locked"
    digits = FOUR_DIGITS.match(inbound.body)
    if digits is None or last not in ("verify_ask", "verify_retry"):
        return "unverified", "verify_ask"
    if digits.group(1) in {case.last4 for case in cases_of(session, sender.participant_id)}:
        ledger.record(
            session,
            sender.phone_id,
            ConsentKind.VERIFICATION,
            ConsentChannel.SMS_CASE_DIGITS,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|verification",
            assume_new=True,
        )
        return "case_digits", "verify_ok"
    return "case_digits_wrong", "verify_locked" if tries + 1 >= VERIFY_TRIES else "verify_retry"


def _text_language(text: str) -> str | None:
    """The text's own language when it is clear ("hola" is Spanish), else None."""
    guess = detect_language(text)
    return guess.language if guess.clear else None


def _recent_case_context(
    session: Session, cipher: DataCipher, phone_id: int
) -> tuple[str | None, str | None]:
    """What the conversation remembers for a while: the case chosen by its last 4 digits, and the
    last case question asked (so a bare "0871" can answer it)."""
    rows = (
        session.connection()
        .execute(_RECENT_INBOUND, {"phone": phone_id, "since": utcnow() - CASE_MEMORY})
        .all()
    )
    choice = next(
        (cipher.decrypt(body).strip()[:4] for intent, body in rows if intent == "case_choice"), None
    )
    asked = next((intent for intent, _ in rows if intent in CASE_QUESTIONS), None)
    return choice, asked


def _previous_reply(session: Session, cipher: DataCipher, inbound_record: Exchange) -> Reply:
    reply = exchange_log.reply_to(session, inbound_record)
    if reply is None:
        return Reply(None, None, inbound_record.intent, duplicate=True)
    return Reply(cipher.decrypt(reply.body_enc), reply.template_id, inbound_record.intent, duplicate=True)


def handle_inbound(
    session: Session,
    cipher: DataCipher,
    replies: Replies,
    inbound: InboundText,
    *,
    check_duplicate: bool = True,
) -> Reply:
    """Decide, record and log one inbound text; return the reply (already logged).

    Every read comes first and the exchange log's append last: its lock is held until commit.
    check_duplicate=False skips looking the MessageSid up first: a repeat then fails on the unique keys
    (consent event, exchange) and the caller runs it again with the check (Twilio retries are rare).
    """
    if check_duplicate:
        seen = exchange_log.find_inbound(session, inbound.message_sid)
        if seen is not None:
            return _previous_reply(session, cipher, seen)

    sender = _sender(session, cipher, inbound.sender)
    before = ledger.current_state(session, sender.phone_id)
    last = sender.last_template
    decision = decide(
        inbound.body, before, opt_out_type=inbound.opt_out_type, clarify_asked=last == "revoke_clarify"
    )
    after = before
    if decision.event is not None:
        ledger.record(
            session,
            sender.phone_id,
            decision.event,
            decision.channel,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|{decision.event.value}",
            assume_new=True,
        )
        after = ledger.apply(before, decision.event, decision.channel)

    intent, template_id = decision.intent, REPLY_TEMPLATE.get(decision.action)
    fields: dict[str, str] = {}
    # Keywords say nothing of language (carriers tell everyone to text STOP); other texts may.
    # The answering step judges the text's language itself; other replies only need it without an event.
    needs_text_language = decision.event is None and decision.action is not Action.ANSWER
    text_language = _text_language(inbound.body) if needs_text_language else None
    language = decision.language or text_language or sender.language or "en"
    if decision.action is Action.VERIFY:
        intent, template_id = _verify(session, sender, inbound, last)
        if intent == "case_digits":
            after = ledger.apply(after, ConsentKind.VERIFICATION, ConsentChannel.SMS_CASE_DIGITS)
    elif decision.action is Action.ANSWER:
        if sender.participant_id is None:  # verified once, but the number has since left the case data
            template_id = "verify_unknown"
        else:
            choice, asked = _recent_case_context(session, cipher, sender.phone_id)
            digits = FOUR_DIGITS.match(inbound.body)
            if digits is not None and asked is not None:
                # A bare "0871" after a case question: that case, for the question they asked.
                answered = answering.answer(
                    session,
                    sender.participant_id,
                    sender.language,
                    inbound.body,
                    case_last4=digits.group(1),
                    intent=asked,
                )
                intent = "case_choice"
            else:
                answered = answering.answer(
                    session, sender.participant_id, sender.language, inbound.body, case_last4=choice
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
        exchange_log.append(session, cipher, received)
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
    exchange_log.append(session, cipher, received, answer)
    return Reply(text, template_id, intent)
