"""The answering step: a verified, opted-in participant's text -> intent -> rasa-sdk action -> template.

The action runs in-process on the engine's connection, exactly as the action server would run it for Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.engine import Connection

import intents
from intents import case_source
from intents.actions import ACTIONS
from intents.classifier import Intent

# What a dispatcher message holds besides the fields of the response.
_MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
)


# "del caso 0871", "for case ending 0234", or a bare 4 digits: which case is the action's business
# (intents.actions.chosen_cases); the classifier, trained on texts without them, reads the rest.
_CASE_REFERENCE = re.compile(
    r"\b(?:(?:del|de|en el|for|on|in)\s+)?(?:(?:el|the|my|mi)\s+)?(?:caso|case)"
    r"(?:\s+(?:ending(?:\s+in)?|que\s+termina\s+en|#|no\.?|number|numero|número))?\s*\d{4}\b"
    r"|(?<!\d)\d{4}(?!\d)",
    re.IGNORECASE,
)


def without_case_reference(text: str) -> str:
    """The text with any mention of a case by its last 4 digits taken out."""
    return " ".join(_CASE_REFERENCE.sub(" ", text).split())


@dataclass(frozen=True)
class Answer:
    """What the action chose: the intent understood, the template and its fields, and the language."""

    intent: str
    template_id: str
    fields: dict[str, str]
    language: str


def answer(
    connection: Connection,
    participant_id: int,
    preferred_language: str | None,
    text: str,
    *,
    case_last4: str | None = None,
    intent: str | None = None,
) -> Answer:
    """Understand the text and run its action; the language is the text's when clear, else the preference.

    case_last4: the case the conversation is about (chosen earlier); intent: answer this intent instead of
    the text's (a bare case number answering the question asked before it).
    """
    parse = intents.parse(without_case_reference(text))
    language = parse.language if parse.language_clear or not preferred_language else preferred_language
    chosen = Intent(intent) if intent else parse.intent
    tracker = Tracker.from_dict(
        {
            "sender_id": f"participant-{participant_id}",
            "slots": {"participant_id": participant_id, "language": language, "case_last4": case_last4},
            "latest_message": {
                "text": text,
                "intent": {"name": chosen.value, "confidence": 1.0 if intent else parse.confidence},
            },
            "events": [],
        }
    )
    dispatcher = CollectingDispatcher()
    with case_source.bound(connection):
        ACTIONS[chosen]().run(dispatcher, tracker, {})
    message = dispatcher.messages[0]
    fields = {
        key: str(value) for key, value in message.items() if key not in _MESSAGE_KEYS and value is not None
    }
    return Answer(chosen.value, message["response"].removeprefix("utter_"), fields, language)
