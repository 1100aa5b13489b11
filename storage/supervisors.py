"""Supervisor accounts: creation, password checks, and locking an account after repeated failures.

Passwords are hashed with scrypt (werkzeug.security: a random salt per hash, the parameters stored in
the hash). A wrong password counts against the account; LOCK_AFTER failures in a row lock it for
LOCK_FOR, and while it is locked even the right password is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage.models import SignInFailure, Supervisor, SupervisorRole, utcnow

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# Per client (whatever the email): this many failures within CLIENT_WINDOW and it must wait.
CLIENT_FAILURES = 20
CLIENT_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 12
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


class AccountError(ValueError):
    """An account cannot be created as asked (bad email, role or password, or the email is taken)."""


class SignIn(StrEnum):
    """The outcome of a sign-in attempt (the page says the same thing for every refusal)."""

    OK = "ok"
    REFUSED = "refused"
    LOCKED = "locked"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignInResult:
    """What happened, and the supervisor when it worked."""

    outcome: SignIn
    supervisor: Supervisor | None = None


def hash_password(password: str) -> str:
    """A scrypt hash of the password, salted."""
    return generate_password_hash(password, method="scrypt")


def create_supervisor(session: Session, email: str, role: str, password: str) -> Supervisor:
    """Add an account; raises AccountError naming what is wrong."""
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"not an email address: {email!r}")
    if role not in {r.value for r in SupervisorRole}:
        raise AccountError(f"role must be one of {', '.join(r.value for r in SupervisorRole)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(Supervisor.id).where(Supervisor.email == email)) is not None:
        raise AccountError(f"an account for {email} exists already")
    supervisor = Supervisor(email=email, role=role, password_hash=hash_password(password), failed_logins=0)
    session.add(supervisor)
    session.flush()
    return supervisor


def client_throttled(session: Session, client_hash: str) -> bool:
    """True when this client failed too often lately (checked before any password is)."""
    since = utcnow() - CLIENT_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.client_hash == client_hash, SignInFailure.occurred_at >= since)
    )
    return (failures or 0) >= CLIENT_FAILURES


def authenticate(session: Session, email: str, password: str, client_hash: str) -> SignInResult:
    """Check a sign-in in the caller's transaction: counts failures, locks, throttles."""
    now = utcnow()
    if client_throttled(session, client_hash):
        return SignInResult(SignIn.THROTTLED)
    supervisor = session.scalars(
        select(Supervisor).where(Supervisor.email == email.strip().lower()).with_for_update()
    ).one_or_none()
    if supervisor is None:
        check_password_hash(_DUMMY_HASH, password)
        _fail(session, client_hash)
        return SignInResult(SignIn.REFUSED)
    if supervisor.locked_until is not None and supervisor.locked_until > now:
        _fail(session, client_hash)
        return SignInResult(SignIn.LOCKED)
    if not check_password_hash(supervisor.password_hash, password):
        supervisor.failed_logins += 1
        if supervisor.failed_logins >= LOCK_AFTER:
            supervisor.locked_until, supervisor.failed_logins = now + LOCK_FOR, 0
        _fail(session, client_hash)
        return SignInResult(
            SignIn.LOCKED if supervisor.locked_until and supervisor.locked_until > now else SignIn.REFUSED
        )
    supervisor.failed_logins, supervisor.locked_until, supervisor.last_login_at = 0, None, now
    return SignInResult(SignIn.OK, supervisor)


def unlock(session: Session, supervisor_id: int) -> Supervisor | None:
    """Clear an account's lock and failure count (an admin's action)."""
    supervisor = session.get(Supervisor, supervisor_id)
    if supervisor is not None:
        supervisor.failed_logins, supervisor.locked_until = 0, None
    return supervisor


def _fail(session: Session, client_hash: str) -> None:
    session.add(SignInFailure(client_hash=client_hash, occurred_at=utcnow()))
    # Keep the table small: what is older than the window no longer counts.
    session.execute(delete(SignInFailure).where(SignInFailure.occurred_at < utcnow() - CLIENT_WINDOW))
