"""Where the rasa-sdk actions get a database session and who the texter is.

In the web process the conversation engine has already checked consent and verification, binds its own
session (`bound`) and passes the participant in a slot. In the rasa-sdk action server (`python -m
rasa_sdk --actions intents.actions`) there is no engine: the session comes from DATABASE_URL, the
sender_id is the phone number, and the same consent rules are checked here before any case data is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from consent import ledger
from consent.ledger import ConsentStatus
from storage.crypto import DataCipher
from storage.database import Database
from storage.phones import find_phone

_session: ContextVar[Session | Connection | None] = ContextVar("intents_session", default=None)


@contextmanager
def bound(session: Session | Connection) -> Iterator[None]:
    """Run the actions inside this block on the caller's session or connection (the engine's transaction)."""
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)


@lru_cache(maxsize=1)
def _server() -> tuple[Database, DataCipher]:
    url, keys = os.environ.get("DATABASE_URL"), os.environ.get("DATA_KEYS")
    if not url or not keys:
        raise RuntimeError("the action server needs DATABASE_URL and DATA_KEYS in its environment")
    return Database(url), DataCipher.from_setting(keys)


@contextmanager
def session() -> Iterator[Session | Connection]:
    """The engine's session when bound, else one of the action server's own."""
    current = _session.get()
    if current is not None:
        yield current
        return
    database, _ = _server()
    with database.session() as own:
        yield own


def participant_for_sender(session: Session, sender_id: str) -> int | None:
    """For the action server: the participant behind a phone number, only if opted in and verified."""
    _, cipher = _server()
    phone = find_phone(session, cipher, sender_id)
    if phone is None or phone.participant_id is None:
        return None
    state = ledger.current_state(session, phone.id)
    if state.status is not ConsentStatus.OPTED_IN or not state.verified:
        return None
    return phone.participant_id
