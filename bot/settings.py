"""Settings: defaults, then the environment variable of the same name, then create_app's overrides.

In production every secret must be given; in development safe local ones are made once under instance/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any

import click

from storage.crypto import DataKeyError, generate_key, parse_data_keys

NAMES = (
    "DATABASE_URL",
    "REDIS_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_FROM",
    "TWILIO_API_URL",
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "DATA_KEYS",
    "PROGRAM_NAME",
    "AGENCY_PHONE",
    "AGENCY_URL",
    "BOT_ENV",
    "SEND_RATE",
    "QUIET_HOURS",
    "TRUSTED_PROXIES",
    "ALLOW_AMOUNTS",
    "QUEUE_NAME",
    "RETENTION_DAYS",
    "DASHBOARD_IDLE_MINUTES",
    "DASHBOARD_SESSION_HOURS",
    "INBOUND_PER_MINUTE",
    "SEND_CONCURRENCY",
)
SECRETS = ("SECRET_KEY", "TWILIO_AUTH_TOKEN", "DATA_KEYS", "DATABASE_URL")
# Placeholders fit for a laptop; production must name the agency's real contact (CTIA audits HELP).
PLACEHOLDER_PHONE = "1-800-555-0199"
PLACEHOLDER_URL = "https://childsupport.example.gov/text"
DEFAULTS: dict[str, str] = {
    "PROGRAM_NAME": "Child Support Alerts",
    "AGENCY_PHONE": PLACEHOLDER_PHONE,
    "AGENCY_URL": PLACEHOLDER_URL,
    "BOT_ENV": "development",
    "SEND_RATE": "100",
    "QUIET_HOURS": "21:00-08:00",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TRUSTED_PROXIES": "0",
    "ALLOW_AMOUNTS": "false",
    "QUEUE_NAME": "sms",
    # Seven years: a common records schedule for program records; the agency sets its own.
    "RETENTION_DAYS": "2555",
    "DASHBOARD_IDLE_MINUTES": "30",
    "DASHBOARD_SESSION_HOURS": "12",
    # No one types more than this; a number past it gets one "slow down" reply, then silence (keywords
    # are always honoured).
    "INBOUND_PER_MINUTE": "30",
    # Sends in flight per worker process: Twilio answers in 100-300 ms, so one at a time would never
    # reach a short code's SEND_RATE.
    "SEND_CONCURRENCY": "8",
}
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class ConfigError(click.ClickException):
    """A setting is missing or malformed; start-up stops with one line naming it."""


@dataclass(frozen=True)
class Settings:
    """Every setting, checked and typed."""

    DATABASE_URL: str
    REDIS_URL: str | None
    TWILIO_ACCOUNT_SID: str
    TWILIO_AUTH_TOKEN: str
    TWILIO_MESSAGING_SERVICE_SID: str | None
    TWILIO_FROM: str | None
    TWILIO_API_URL: str | None
    PUBLIC_BASE_URL: str | None
    SECRET_KEY: str
    DATA_KEYS: str
    PROGRAM_NAME: str
    AGENCY_PHONE: str
    AGENCY_URL: str
    BOT_ENV: str
    SEND_RATE: float
    QUIET_HOURS: tuple[time, time]
    TRUSTED_PROXIES: int
    ALLOW_AMOUNTS: bool
    QUEUE_NAME: str
    RETENTION_DAYS: int
    DASHBOARD_IDLE_MINUTES: int
    DASHBOARD_SESSION_HOURS: int
    INBOUND_PER_MINUTE: int
    SEND_CONCURRENCY: int

    @property
    def production(self) -> bool:
        """True when BOT_ENV is production."""
        return self.BOT_ENV == "production"

    def as_config(self) -> dict[str, Any]:
        """The settings as Flask config entries."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Parse "HH:MM-HH:MM" (start of quiet time, end of quiet time; may wrap past midnight)."""
    match = _QUIET.match(value.strip())
    if not match:
        raise ConfigError(f'QUIET_HOURS must look like "21:00-08:00", not {value!r}')
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    return time(h1, m1), time(h2, m2)


def covers_the_rule(quiet: tuple[time, time]) -> bool:
    """True when the quiet period includes all of 21:00-08:00 (equal start and end: no quiet hours)."""
    start, end = quiet
    if start == end:
        return False
    if start < end:  # a daytime window cannot contain the night
        return False
    return start <= time(21, 0) and end >= time(8, 0)


def _development_secrets(instance_path: Path) -> dict[str, str]:
    """Local secrets made once and kept in instance/secrets.json, so encrypted data stays readable."""
    path = instance_path / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance_path.mkdir(parents=True, exist_ok=True)
    made = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_KEYS": generate_key(),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(made, handle, indent=2)
    return made


def _whole_number(raw: Mapping[str, Any], name: str, low: int, high: int) -> int:
    try:
        value = int(raw[name])
    except (TypeError, ValueError):
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw[name]!r}")
    return value


def load_settings(
    environ: Mapping[str, str], overrides: Mapping[str, Any] | None, instance_path: Path
) -> Settings:
    """Merge defaults, environment and overrides; check them; fill development defaults."""
    raw: dict[str, Any] = dict(DEFAULTS)
    raw.update({name: environ[name] for name in NAMES if environ.get(name, "").strip()})
    unknown = sorted(set(overrides or {}) - set(NAMES))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})

    env = str(raw["BOT_ENV"]).strip().lower()
    if env not in ("development", "production"):
        raise ConfigError(f"BOT_ENV must be development or production, not {raw['BOT_ENV']!r}")
    raw["BOT_ENV"] = env
    if env == "production":
        missing = [name for name in SECRETS if not str(raw.get(name) or "").strip()]
        if missing:
            raise ConfigError(f"BOT_ENV=production needs these settings: {', '.join(missing)} (none is set)")
        placeholders = [
            name
            for name, placeholder in (("AGENCY_PHONE", PLACEHOLDER_PHONE), ("AGENCY_URL", PLACEHOLDER_URL))
            if raw[name] == placeholder
        ]
        if placeholders:
            raise ConfigError(
                f"BOT_ENV=production needs the agency's real {' and '.join(placeholders)} "
                "(HELP replies carry them; CTIA checks)"
            )
    else:
        if not raw.get("DATABASE_URL"):
            instance_path.mkdir(parents=True, exist_ok=True)
            raw["DATABASE_URL"] = f"sqlite:///{instance_path / 'bot.sqlite3'}"
        if not all(raw.get(name) for name in ("SECRET_KEY", "DATA_KEYS", "TWILIO_AUTH_TOKEN")):
            made = _development_secrets(instance_path)
            for name, value in made.items():
                if not raw.get(name):
                    raw[name] = value

    try:
        parse_data_keys(str(raw["DATA_KEYS"]))
    except DataKeyError as exc:
        raise ConfigError(str(exc)) from None
    try:
        send_rate = float(raw["SEND_RATE"])
    except (TypeError, ValueError):
        raise ConfigError(
            f"SEND_RATE must be a number of messages per second, not {raw['SEND_RATE']!r}"
        ) from None
    if not 0 < send_rate <= 10000:
        raise ConfigError("SEND_RATE must be more than 0 and at most 10000 messages per second")
    quiet = raw["QUIET_HOURS"]
    quiet_hours = quiet if isinstance(quiet, tuple) else parse_quiet_hours(str(quiet))
    if env == "production" and not covers_the_rule(quiet_hours):
        raise ConfigError(
            "QUIET_HOURS must keep at least 21:00-08:00 quiet in production (no non-urgent text "
            "outside 8 a.m.-9 p.m. local time)"
        )
    if raw.get("PUBLIC_BASE_URL"):
        raw["PUBLIC_BASE_URL"] = str(raw["PUBLIC_BASE_URL"]).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", raw["PUBLIC_BASE_URL"]):
            raise ConfigError("PUBLIC_BASE_URL must start with https:// (or http://) and a host name")
    try:
        proxies = int(raw["TRUSTED_PROXIES"])
    except (TypeError, ValueError):
        proxies = -1
    if not 0 <= proxies <= 5:
        raise ConfigError("TRUSTED_PROXIES must be the number of proxies in front of the app (0 to 5)")
    allow_amounts = str(raw["ALLOW_AMOUNTS"]).strip().lower()
    if allow_amounts not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"ALLOW_AMOUNTS must be true or false, not {raw['ALLOW_AMOUNTS']!r}")
    queue_name = str(raw["QUEUE_NAME"]).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", queue_name):
        raise ConfigError("QUEUE_NAME must be 1-64 letters, digits, '.', '_' or '-'")
    idle = _whole_number(raw, "DASHBOARD_IDLE_MINUTES", 1, 24 * 60)
    absolute = _whole_number(raw, "DASHBOARD_SESSION_HOURS", 1, 24 * 7)
    values = {name: raw.get(name) or None for name in NAMES}
    values.update(
        SEND_RATE=send_rate,
        QUIET_HOURS=quiet_hours,
        TRUSTED_PROXIES=proxies,
        ALLOW_AMOUNTS=allow_amounts in ("true", "1", "yes"),
        QUEUE_NAME=queue_name,
        RETENTION_DAYS=_whole_number(raw, "RETENTION_DAYS", 1, 36500),
        DASHBOARD_IDLE_MINUTES=idle,
        DASHBOARD_SESSION_HOURS=absolute,
        INBOUND_PER_MINUTE=_whole_number(raw, "INBOUND_PER_MINUTE", 1, 10000),
        SEND_CONCURRENCY=_whole_number(raw, "SEND_CONCURRENCY", 1, 64),
    )
    return Settings(**values)
