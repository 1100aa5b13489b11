"""The answers, as rasa-sdk actions: one Action per intent.

The conversation engine runs them in-process; the same module is what `python -m rasa_sdk --actions
intents.actions` serves to an agency's Rasa. An action never builds text: it names a response
(`utter_<template id>`) and the fields for it; bot/replies.py renders the template and bot/guard.py
checks the result. Case data comes from storage/case_answers.py; no SQL and no Twilio here.

Slots the actions read: `participant_id` (set by the engine after its consent checks; the action server
resolves the sender_id phone number itself) and `language` ("en" or "es").
"""

from __future__ import annotations

import abc
import re
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intents import case_source, wording
from intents.classifier import Intent
from storage.case_answers import CaseFacts, cases_of, last_payments, next_appointments
from storage.models import CaseRole

Database = Session | Connection  # the action server's session, or the engine's connection
MAX_LISTED = 3  # cases answered in one text; more and we ask which one
_FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _participant(session: Database, tracker: Tracker) -> int | None:
    slot = tracker.get_slot("participant_id")
    if slot is not None:
        return int(slot)
    if isinstance(session, Connection):
        session = Session(bind=session)
    return case_source.participant_for_sender(session, tracker.sender_id)


def chosen_cases(cases: list[CaseFacts], text: str, remembered: str | None = None) -> list[CaseFacts]:
    """The cases the text names by their last 4 digits, else the one chosen a moment ago, else all."""
    named = set(_FOUR_DIGITS.findall(text)) or ({remembered} if remembered else set())
    picked = [case for case in cases if case.last4 in named]
    return picked or cases


class _Answer(Action, abc.ABC):
    """An answer that needs no case data: one response, the program's contact details as fields.

    Abstract (so the action server does not register it): subclasses set `intent` and `response`.
    """

    @property
    @abc.abstractmethod
    def intent(self) -> Intent:
        """The intent this action answers."""

    @property
    @abc.abstractmethod
    def response(self) -> str:
        """The template it answers with."""

    def name(self) -> str:
        """The action's name as Rasa knows it."""
        return f"action_{self.intent.value}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Utter the response."""
        dispatcher.utter_message(response=f"utter_{self.response}")
        return []


class _CaseAnswer(Action, abc.ABC):
    """An answer from the participant's cases; refuses (asks to verify) when the texter is unknown."""

    @property
    @abc.abstractmethod
    def intent(self) -> Intent:
        """The intent this action answers."""

    def name(self) -> str:
        """The action's name as Rasa knows it."""
        return f"action_{self.intent.value}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Look the cases up and utter the answer."""
        language = tracker.get_slot("language") or "en"
        text = tracker.latest_message.get("text") or ""
        with case_source.session() as session:
            participant = _participant(session, tracker)
            if participant is None:
                dispatcher.utter_message(response="utter_verify_ask")
                return []
            cases = cases_of(session, participant)
            if not cases:
                dispatcher.utter_message(response="utter_safe_fallback")
                return []
            cases = chosen_cases(cases, text, tracker.get_slot("case_last4"))
            if len(cases) > MAX_LISTED:
                items = ", ".join(case.last4 for case in cases)
                dispatcher.utter_message(response="utter_choose_case", count=str(len(cases)), items=items)
                return []
            response, fields = self.answer(session, cases, language)
        dispatcher.utter_message(response=f"utter_{response}", **fields)
        return []

    @abc.abstractmethod
    def answer(self, session: Database, cases: list[CaseFacts], language: str) -> tuple[str, dict[str, str]]:
        """The response and its fields for these cases."""


class ActionNextDueDate(_CaseAnswer):
    intent = Intent.NEXT_DUE_DATE

    def answer(self, session: Database, cases: list[CaseFacts], language: str) -> tuple[str, dict[str, str]]:
        """When the next payment is due, per case when there are several."""
        # A due date already past is not "next": the export is stale or the payment is late; the
        # reply then sends them to a person rather than state a wrong date.
        today = date.today()
        due = [case for case in cases if case.next_due_date is not None and case.next_due_date >= today]
        if not due:
            return "no_due_date", {}
        if len(due) == 1:
            return "next_due_date", {"due_date": wording.day(due[0].next_due_date, language)}
        items = "; ".join(wording.case_item(case.last4, case.next_due_date, language) for case in due)
        return "next_due_date_cases", {"items": items}


class ActionLastPayment(_CaseAnswer):
    intent = Intent.LAST_PAYMENT

    def answer(self, session: Database, cases: list[CaseFacts], language: str) -> tuple[str, dict[str, str]]:
        """The last payment posted: received from a paying parent, or paid to a receiving one.

        When a newer payment cannot be shown (a tax offset), or none is on file, the reply points to a
        call or the portal: the same words either way, so they reveal nothing.
        """
        payments = last_payments(session, [case.case_id for case in cases])
        if any(
            payments[case.case_id].hidden_newer or payments[case.case_id].paid_on is None for case in cases
        ):
            return "payment_see_portal", {}
        if len(cases) == 1:
            case = cases[0]
            response = (
                "last_payment_paid_by_me" if case.role is CaseRole.NONCUSTODIAL else "last_payment_paid_to_me"
            )
            return response, {"paid_on": wording.day(payments[case.case_id].paid_on, language)}
        items = "; ".join(
            wording.case_item(case.last4, payments[case.case_id].paid_on, language) for case in cases
        )
        return "last_payment_cases", {"items": items}


class ActionNextAppointment(_CaseAnswer):
    intent = Intent.NEXT_APPOINTMENT

    def answer(self, session: Database, cases: list[CaseFacts], language: str) -> tuple[str, dict[str, str]]:
        """The soonest scheduled hearing or appointment on any of the cases (never a cancelled one)."""
        upcoming = next_appointments(session, [case.case_id for case in cases])
        if not upcoming:
            return "no_appointment", {}
        soonest = min(upcoming.values(), key=lambda appointment: appointment.starts_at)
        return "next_appointment", {
            "kind": wording.kind(soonest.kind, language),
            "day": wording.day(soonest.starts_at.date(), language),
            "time": wording.clock(soonest.starts_at, language),
            "office": soonest.office,
        }


def _simple(intent: Intent, response: str) -> type[_Answer]:
    name = f"Action{intent.value.title().replace('_', '')}"
    # This module, not abc, must own the class: the action server pickles it by its qualified name.
    namespace = {"intent": intent, "response": response, "__module__": __name__, "__qualname__": name}
    return type(name, (_Answer,), namespace)


ActionPaymentOptions = _simple(Intent.PAYMENT_OPTIONS, "payment_options")
ActionOfficeInfo = _simple(Intent.OFFICE_INFO, "office_info")
ActionAgentRequest = _simple(Intent.AGENT_REQUEST, "agent_request")
ActionUpdateInfo = _simple(Intent.UPDATE_INFO, "update_info")
ActionDocuments = _simple(Intent.DOCUMENTS, "documents")
ActionGreet = _simple(Intent.GREET, "greet")
ActionThanks = _simple(Intent.THANKS, "thanks")
ActionHelp = _simple(Intent.HELP, "help_menu")
ActionOutOfScope = _simple(Intent.OUT_OF_SCOPE, "out_of_scope")

ACTIONS: dict[Intent, type[Action]] = {
    action.intent: action
    for action in (
        ActionNextDueDate,
        ActionLastPayment,
        ActionNextAppointment,
        ActionPaymentOptions,
        ActionOfficeInfo,
        ActionAgentRequest,
        ActionUpdateInfo,
        ActionDocuments,
        ActionGreet,
        ActionThanks,
        ActionHelp,
        ActionOutOfScope,
    )
}
