"""What a text asks of the consent rules, and what may follow it: one pure function, `decide`.

The order of the checks is the rule book (COMPLIANCE.md):
1. Twilio Advanced Opt-Out already acted on a keyword (OptOutType): record the same, send nothing.
2. A keyword is honoured in every state: STOP-family revokes (one confirmation, none if already
   out), START-family opts in, HELP-family is answered even for an opted-out number.
3. An opted-out number gets silence for anything else.
4. Plain-language revocation revokes at once; an unclear one is asked about once.
5. A number that never opted in gets enrollment instructions; an unverified one is asked to verify;
   only an opted-in, verified number reaches the answering step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consent.keywords import KeywordFamily, match_keyword
from consent.ledger import ConsentState, ConsentStatus
from consent.revocation import Verdict, classify_revocation
from storage.models import ConsentChannel, ConsentKind

# "yes" right after "Reply STOP to stop all texts" means stop, whatever the keyword list says.
AFFIRMATIVE_WORDS = frozenset({"YES", "SÍ"})
TWILIO_OPT_OUT_TYPES = {
    "STOP": ConsentKind.OPT_OUT,
    "START": ConsentKind.OPT_IN,
    "HELP": ConsentKind.HELP,
}


class Action(StrEnum):
    CONFIRM_OPT_OUT = "confirm_opt_out"  # record the opt-out, send the one confirmation
    QUIET_OPT_OUT = "quiet_opt_out"  # already opted out: record it again, send nothing
    CONFIRM_OPT_IN = "confirm_opt_in"
    HELP = "help"
    TWILIO_HANDLED = "twilio_handled"  # Twilio replied itself; record the same state, send nothing
    SILENCE = "silence"
    CLARIFY = "clarify"  # ask once: "Reply STOP to stop all texts"
    ENROLL = "enroll"
    VERIFY = "verify"
    ANSWER = "answer"


@dataclass(frozen=True)
class Decision:
    """What to record in the ledger (if anything) and what kind of reply may follow."""

    action: Action
    intent: str
    event: ConsentKind | None = None
    channel: ConsentChannel | None = None
    language: str | None = None


def decide(
    text: str,
    state: ConsentState,
    *,
    opt_out_type: str | None = None,
    clarify_asked: bool = False,
) -> Decision:
    """Decide for one inbound text, given the number's consent state before it.

    clarify_asked: the last thing sent to this number was the "Reply STOP to stop" question.
    """
    twilio_kind = TWILIO_OPT_OUT_TYPES.get((opt_out_type or "").strip().upper())
    if twilio_kind is not None:
        return Decision(
            Action.TWILIO_HANDLED,
            f"twilio_{twilio_kind.value}",
            twilio_kind,
            ConsentChannel.TWILIO_OPT_OUT_TYPE,
        )

    keyword = match_keyword(text)
    if keyword is not None and keyword.word in AFFIRMATIVE_WORDS:
        if clarify_asked:
            return Decision(
                Action.CONFIRM_OPT_OUT,
                "clarified_revocation",
                ConsentKind.OPT_OUT,
                ConsentChannel.SMS_PLAIN_LANGUAGE,
                keyword.language,
            )
        if state.status is ConsentStatus.OPTED_IN:
            keyword = None  # a plain "yes" from someone already opted in is an answer, not an opt-in
    if keyword is not None:
        # STOP, HELP and START are what carriers tell everyone to text: they say nothing about the
        # sender's language, so only a Spanish word (PARAR, AYUDA) chooses the reply's language.
        language = "es" if keyword.language == "es" else None
        if keyword.family is KeywordFamily.OPT_OUT:
            action = (
                Action.QUIET_OPT_OUT if state.status is ConsentStatus.OPTED_OUT else Action.CONFIRM_OPT_OUT
            )
            return Decision(action, "stop_keyword", ConsentKind.OPT_OUT, ConsentChannel.SMS_KEYWORD, language)
        if keyword.family is KeywordFamily.OPT_IN:
            return Decision(
                Action.CONFIRM_OPT_IN,
                "start_keyword",
                ConsentKind.OPT_IN,
                ConsentChannel.SMS_KEYWORD,
                language,
            )
        return Decision(Action.HELP, "help_keyword", ConsentKind.HELP, ConsentChannel.SMS_KEYWORD, language)

    revocation = classify_revocation(text)
    if state.status is ConsentStatus.OPTED_OUT:
        if revocation.verdict is Verdict.REVOKE:
            # Already out: no second confirmation, but the request is evidence worth keeping.
            return Decision(
                Action.QUIET_OPT_OUT,
                "plain_language_revocation",
                ConsentKind.OPT_OUT,
                ConsentChannel.SMS_PLAIN_LANGUAGE,
                revocation.language,
            )
        return Decision(Action.SILENCE, "while_opted_out")
    if revocation.verdict is Verdict.REVOKE:
        return Decision(
            Action.CONFIRM_OPT_OUT,
            "plain_language_revocation",
            ConsentKind.OPT_OUT,
            ConsentChannel.SMS_PLAIN_LANGUAGE,
            revocation.language,
        )
    if revocation.verdict is Verdict.UNCLEAR and not clarify_asked:
        return Decision(Action.CLARIFY, "unclear_revocation", language=revocation.language)

    if state.status is ConsentStatus.NEVER_OPTED_IN:
        return Decision(Action.ENROLL, "not_enrolled")
    if not state.verified:
        return Decision(Action.VERIFY, "unverified")
    return Decision(Action.ANSWER, "question")
