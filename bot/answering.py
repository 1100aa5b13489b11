"""The answering step: a verified, opted-in participant's text -> intent -> rasa-sdk action -> template.

The action runs in-process on the engine's session, exactly as the action server would run it for Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

import intents
from intents import case_source
from intents.actions import ACTIONS

# What a dispatcher message holds besides the fields of the response.
_MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
)


@dataclass(frozen=True)
class Answer:
    """What the action chose: the intent understood, the template and its fields, and the language."""

    intent: str
    template_id: str
    fields: dict[str, str]
    language: str


def answer(session: Session, participant_id: int, preferred_language: str | None, text: str) -> Answer:
    """Understand the text and run its action; the language is the text's when clear, else the preference."""
    parse = intents.parse(text)
    language = parse.language if parse.language_clear or not preferred_language else preferred_language
    tracker = Tracker.from_dict(
        {
            "sender_id": f"participant-{participant_id}",
            "slots": {"participant_id": participant_id, "language": language},
            "latest_message": {
                "text": text,
                "intent": {"name": parse.intent.value, "confidence": parse.confidence},
            },
            "events": [],
        }
    )
    dispatcher = CollectingDispatcher()
    with case_source.bound(session):
        ACTIONS[parse.intent]().run(dispatcher, tracker, {})
    message = dispatcher.messages[0]
    fields = {
        key: str(value) for key, value in message.items() if key not in _MESSAGE_KEYS and value is not None
    }
    return Answer(parse.intent.value, message["response"].removeprefix("utter_"), fields, language)
