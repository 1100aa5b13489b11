"""The conversation engine: one inbound text in, at most one templated reply out, both logged.

`handle_inbound` runs in the caller's transaction: the consent event, the inbound record and the
reply record commit together or not at all. A MessageSid seen before gets the reply it got then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.replies import Replies
from consent import ledger
from consent.policy import Action, Decision, decide
from storage import exchange_log
from storage.crypto import DataCipher
from storage.exchange_log import NewExchange
from storage.models import (
    Case,
    CaseMember,
    ConsentChannel,
    ConsentKind,
    Direction,
    Exchange,
    Participant,
    PhoneNumber,
    utcnow,
)
from storage.phones import find_phone

FOUR_DIGITS = re.compile(r"^\s*(\d{4})\s*[.!]?\s*$")
# Guessing 4 digits: 3 tries a day, then only a call to the agency verifies the number.
VERIFY_TRIES = 3
VERIFY_WINDOW = timedelta(hours=24)
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


def _phone(session: Session, cipher: DataCipher, number: str) -> PhoneNumber:
    phone = find_phone(session, cipher, number)
    if phone is None:
        phone = PhoneNumber(lookup_hash=cipher.lookup_hash(number), number_enc=cipher.encrypt(number))
        session.add(phone)
        session.flush()
    return phone


def _last_template(session: Session, phone_id: int) -> str | None:
    return session.scalar(
        select(Exchange.template_id)
        .where(Exchange.phone_number_id == phone_id, Exchange.direction == Direction.OUTBOUND.value)
        .order_by(Exchange.occurred_at.desc(), Exchange.chain_seq.desc())
        .limit(1)
    )


def _language(session: Session, phone: PhoneNumber, decision: Decision) -> str:
    if decision.language:
        return decision.language
    if phone.participant_id is not None:
        language = session.scalar(select(Participant.language).where(Participant.id == phone.participant_id))
        if language:
            return language
    return "en"


def _failed_tries(session: Session, phone_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Exchange)
        .where(
            Exchange.phone_number_id == phone_id,
            Exchange.direction == Direction.INBOUND.value,
            Exchange.intent == "case_digits_wrong",
            Exchange.occurred_at >= utcnow() - VERIFY_WINDOW,
        )
    )


def _case_digits(session: Session, participant_id: int) -> set[str]:
    refs = session.scalars(
        select(Case.case_ref)
        .join(CaseMember, CaseMember.case_id == Case.id)
        .where(CaseMember.participant_id == participant_id)
    )
    return {digits[-4:] for ref in refs if len(digits := re.sub(r"\D", "", ref)) >= 4}


def _verify(session: Session, phone: PhoneNumber, inbound: InboundText) -> tuple[str, str]:
    """Verification by the last 4 digits of a case number: (intent, template id)."""
    if phone.participant_id is None:
        return "unverified", "verify_unknown"
    tries = _failed_tries(session, phone.id)
    if tries >= VERIFY_TRIES:
        return "unverified", "verify_locked"
    digits = FOUR_DIGITS.match(inbound.body)
    if digits is None or _last_template(session, phone.id) not in ("verify_ask", "verify_retry"):
        return "unverified", "verify_ask"
    if digits.group(1) in _case_digits(session, phone.participant_id):
        ledger.record(
            session,
            phone.id,
            ConsentKind.VERIFICATION,
            ConsentChannel.SMS_CASE_DIGITS,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|verification",
        )
        return "case_digits", "verify_ok"
    return "case_digits_wrong", "verify_locked" if tries + 1 >= VERIFY_TRIES else "verify_retry"


def _previous_reply(session: Session, cipher: DataCipher, inbound_record: Exchange) -> Reply:
    reply = exchange_log.reply_to(session, inbound_record)
    if reply is None:
        return Reply(None, None, inbound_record.intent, duplicate=True)
    return Reply(cipher.decrypt(reply.body_enc), reply.template_id, inbound_record.intent, duplicate=True)


def handle_inbound(session: Session, cipher: DataCipher, replies: Replies, inbound: InboundText) -> Reply:
    """Decide, record and log one inbound text; return the reply (already logged)."""
    seen = exchange_log.find_inbound(session, inbound.message_sid)
    if seen is not None:
        return _previous_reply(session, cipher, seen)

    phone = _phone(session, cipher, inbound.sender)
    before = ledger.current_state(session, phone.id)
    last = _last_template(session, phone.id)
    decision = decide(
        inbound.body, before, opt_out_type=inbound.opt_out_type, clarify_asked=last == "revoke_clarify"
    )
    if decision.event is not None:
        ledger.record(
            session,
            phone.id,
            decision.event,
            decision.channel,
            inbound.message_sid,
            dedupe_key=f"sms|{inbound.message_sid}|{decision.event.value}",
        )

    intent, template_id = decision.intent, REPLY_TEMPLATE.get(decision.action)
    if decision.action is Action.VERIFY:
        intent, template_id = _verify(session, phone, inbound)
    elif decision.action is Action.ANSWER:
        template_id = "answer_pending"  # the answering step (intents, case data) comes next

    inbound_record = exchange_log.append(
        session,
        cipher,
        NewExchange(
            direction=Direction.INBOUND,
            phone_number_id=phone.id,
            body=inbound.body,
            consent_state=before.label,
            message_sid=inbound.message_sid,
            intent=intent,
        ),
    )
    if template_id is None:
        return Reply(None, None, intent)
    text = replies.render(template_id, _language(session, phone, decision))
    after = ledger.current_state(session, phone.id)
    exchange_log.append(
        session,
        cipher,
        NewExchange(
            direction=Direction.OUTBOUND,
            phone_number_id=phone.id,
            body=text,
            consent_state=after.label,
            template_id=template_id,
            reply_to_id=inbound_record.id,
            delivery_status="twiml",
        ),
    )
    return Reply(text, template_id, intent)
