"""consent.policy.decide, table-driven: every branch, in the order COMPLIANCE.md sets (pure, no DB)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from consent.ledger import ConsentState, ConsentStatus
from consent.policy import Action, Decision, decide
from storage.models import ConsentChannel, ConsentKind

IN_VERIFIED = ConsentState(ConsentStatus.OPTED_IN, verified=True)
IN_UNVERIFIED = ConsentState(ConsentStatus.OPTED_IN, verified=False)
OUT = ConsentState(ConsentStatus.OPTED_OUT, verified=True)
OUT_UNVERIFIED = ConsentState(ConsentStatus.OPTED_OUT, verified=False)
NEVER = ConsentState(ConsentStatus.NEVER_OPTED_IN, verified=False)
ALL_STATES = (IN_VERIFIED, IN_UNVERIFIED, OUT, OUT_UNVERIFIED, NEVER)

K, C, A = ConsentKind, ConsentChannel, Action
QUESTION = "when is my next payment due"


class Case(NamedTuple):
    text: str
    state: ConsentState
    opt_out_type: str | None
    clarify_asked: bool
    expected: Decision


def case(
    text: str,
    state: ConsentState,
    expected: Decision,
    *,
    opt_out_type: str | None = None,
    clarify_asked: bool = False,
) -> Case:
    return Case(text, state, opt_out_type, clarify_asked, expected)


def twilio(kind: ConsentKind) -> Decision:
    return Decision(A.TWILIO_HANDLED, f"twilio_{kind.value}", kind, C.TWILIO_OPT_OUT_TYPE)


# STOP, START and HELP say nothing about the sender's language (carriers tell everyone to text them):
# the reply then follows the participant's preference. Only Spanish words choose Spanish.
STOP_EN = Decision(A.CONFIRM_OPT_OUT, "stop_keyword", K.OPT_OUT, C.SMS_KEYWORD, None)
STOP_ES = Decision(A.CONFIRM_OPT_OUT, "stop_keyword", K.OPT_OUT, C.SMS_KEYWORD, "es")
QUIET_STOP = Decision(A.QUIET_OPT_OUT, "stop_keyword", K.OPT_OUT, C.SMS_KEYWORD, None)
START_EN = Decision(A.CONFIRM_OPT_IN, "start_keyword", K.OPT_IN, C.SMS_KEYWORD, None)
START_ES = Decision(A.CONFIRM_OPT_IN, "start_keyword", K.OPT_IN, C.SMS_KEYWORD, "es")
HELP_EN = Decision(A.HELP, "help_keyword", K.HELP, C.SMS_KEYWORD, None)
HELP_ES = Decision(A.HELP, "help_keyword", K.HELP, C.SMS_KEYWORD, "es")
HELP_ANY = Decision(A.HELP, "help_keyword", K.HELP, C.SMS_KEYWORD, None)
CLARIFIED_EN = Decision(A.CONFIRM_OPT_OUT, "clarified_revocation", K.OPT_OUT, C.SMS_PLAIN_LANGUAGE, "en")
CLARIFIED_ES = Decision(A.CONFIRM_OPT_OUT, "clarified_revocation", K.OPT_OUT, C.SMS_PLAIN_LANGUAGE, "es")
REVOKE_EN = Decision(A.CONFIRM_OPT_OUT, "plain_language_revocation", K.OPT_OUT, C.SMS_PLAIN_LANGUAGE, "en")
REVOKE_ES = Decision(A.CONFIRM_OPT_OUT, "plain_language_revocation", K.OPT_OUT, C.SMS_PLAIN_LANGUAGE, "es")
CLARIFY_EN = Decision(A.CLARIFY, "unclear_revocation", language="en")
CLARIFY_ES = Decision(A.CLARIFY, "unclear_revocation", language="es")
CLARIFY_ANY = Decision(A.CLARIFY, "unclear_revocation", language=None)
SILENCE = Decision(A.SILENCE, "while_opted_out")
# Already opted out: no second confirmation, but the plain-language request is recorded as evidence.
QUIET_REVOKE_EN = Decision(
    A.QUIET_OPT_OUT, "plain_language_revocation", K.OPT_OUT, C.SMS_PLAIN_LANGUAGE, "en"
)
ENROLL = Decision(A.ENROLL, "not_enrolled")
VERIFY = Decision(A.VERIFY, "unverified")
ANSWER = Decision(A.ANSWER, "question")

CASES = [
    # 1. Twilio Advanced Opt-Out already acted: mirror it, whatever the text and state.
    *(case("STOP", state, twilio(K.OPT_OUT), opt_out_type="STOP") for state in ALL_STATES),
    case("START", OUT, twilio(K.OPT_IN), opt_out_type="START"),
    case("HELP", OUT, twilio(K.HELP), opt_out_type="HELP"),
    case("unstop", NEVER, twilio(K.OPT_IN), opt_out_type=" start "),  # read case-insensitively
    case(QUESTION, IN_VERIFIED, twilio(K.OPT_OUT), opt_out_type="STOP"),  # the type decides, not the text
    case("yes", IN_VERIFIED, twilio(K.OPT_IN), opt_out_type="START", clarify_asked=True),
    case(QUESTION, IN_VERIFIED, ANSWER, opt_out_type="SOMETHING_NEW"),  # unknown types are ignored
    case(QUESTION, IN_VERIFIED, ANSWER, opt_out_type=""),
    # 2a. "yes" right after "Reply STOP to stop all texts" revokes.
    case("yes", IN_VERIFIED, CLARIFIED_EN, clarify_asked=True),
    case(" YES! ", IN_UNVERIFIED, CLARIFIED_EN, clarify_asked=True),
    case("sí", IN_VERIFIED, CLARIFIED_ES, clarify_asked=True),
    case("si", NEVER, CLARIFIED_ES, clarify_asked=True),
    # 2b. A plain "yes" from an opted-in number is an answer, not an opt-in.
    case("yes", IN_VERIFIED, ANSWER),
    case("Yes", IN_UNVERIFIED, VERIFY),
    case("sí", IN_VERIFIED, ANSWER),
    # ... but an opt-in where one makes sense.
    case("yes", OUT, START_EN),
    case("yes", NEVER, START_EN),
    case("Sí", OUT_UNVERIFIED, START_ES),
    # 2c. STOP-family: one confirmation, then recorded quietly.
    case("STOP", IN_VERIFIED, STOP_EN),
    case("stop", IN_UNVERIFIED, STOP_EN),
    case("  Stop!! ", NEVER, STOP_EN),
    case("STOP", OUT, QUIET_STOP),
    case("unsubscribe", OUT_UNVERIFIED, QUIET_STOP),
    case("parar", IN_VERIFIED, STOP_ES),
    case("No más", IN_VERIFIED, STOP_ES),
    case("STOP", IN_VERIFIED, STOP_EN, clarify_asked=True),  # a keyword answers the question too
    # 2d. START-family, in every state.
    *(case("START", state, START_EN) for state in ALL_STATES),
    case("comenzar", OUT, START_ES),
    case("UNSTOP", OUT, START_EN, clarify_asked=True),
    # 2e. HELP-family, in every state.
    *(case("HELP", state, HELP_EN) for state in ALL_STATES),
    case("ayuda", OUT, HELP_ES),
    case("info", NEVER, HELP_ANY),
    case("HELP", IN_VERIFIED, HELP_EN, clarify_asked=True),
    # 3. Opted out: silence for anything else, revocations and unclear texts included.
    case(QUESTION, OUT, SILENCE),
    case("please stop texting me", OUT, QUIET_REVOKE_EN),
    case("i want to cancel", OUT, SILENCE),
    case("", OUT_UNVERIFIED, SILENCE),
    case("no", OUT, SILENCE, clarify_asked=True),
    # 4a. Plain-language revocation, in every state that is not already out.
    case("please stop texting me", IN_VERIFIED, REVOKE_EN),
    case("take me off this list", IN_UNVERIFIED, REVOKE_EN),
    case("no me manden más mensajes", NEVER, REVOKE_ES),
    case("please stop texting me", IN_VERIFIED, REVOKE_EN, clarify_asked=True),
    # 4b. Unclear: asked once.
    case("i want to cancel", IN_VERIFIED, CLARIFY_EN),
    case("quiero cancelar", IN_UNVERIFIED, CLARIFY_ES),
    case("not interested", NEVER, CLARIFY_ANY),
    case("how do i stop these texts?", IN_VERIFIED, CLARIFY_EN),
    # ... and not again right after the question: on to the state's own answer.
    case("i want to cancel", IN_VERIFIED, ANSWER, clarify_asked=True),
    case("i want to cancel", IN_UNVERIFIED, VERIFY, clarify_asked=True),
    case("i want to cancel", NEVER, ENROLL, clarify_asked=True),
    # 4c. Questions that merely contain a stop word.
    case("when does my support order end", IN_VERIFIED, ANSWER),
    case("how do i cancel autopay", IN_VERIFIED, ANSWER),
    # 5. By state.
    case(QUESTION, NEVER, ENROLL),
    case("", NEVER, ENROLL),
    case(QUESTION, IN_UNVERIFIED, VERIFY),
    case("0118", IN_UNVERIFIED, VERIFY),
    case(QUESTION, IN_VERIFIED, ANSWER),
    case("no", IN_VERIFIED, ANSWER, clarify_asked=True),
]


@pytest.mark.parametrize(
    "item",
    CASES,
    ids=[
        f"{c.text.strip() or 'empty'}|{c.state.label}|{c.opt_out_type}|{'asked' if c.clarify_asked else '-'}"
        for c in CASES
    ],
)
def test_decide(item: Case) -> None:
    got = decide(item.text, item.state, opt_out_type=item.opt_out_type, clarify_asked=item.clarify_asked)
    assert got == item.expected


def test_every_action_is_reached_by_the_table() -> None:
    assert {c.expected.action for c in CASES} == set(Action)


def test_a_decision_that_records_an_event_names_its_channel() -> None:
    for c in CASES:
        assert (c.expected.event is None) == (c.expected.channel is None), c
