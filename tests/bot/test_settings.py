"""Settings come from defaults, the environment and overrides; production refuses to start without secrets."""

from __future__ import annotations

import json
import os
import stat
from datetime import time
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings, parse_quiet_hours
from storage.crypto import generate_key

SECRETS = {
    "SECRET_KEY": "s",
    "TWILIO_AUTH_TOKEN": "t",
    "DATA_KEYS": generate_key(),
    "DATABASE_URL": "postgresql://db/bot",
}
PRODUCTION = {
    **SECRETS,
    "BOT_ENV": "production",
    "AGENCY_PHONE": "1-888-555-0142",
    "AGENCY_URL": "https://childsupport.state.example/sms",
}


def test_every_setting_reads_its_environment_variable(tmp_path: Path) -> None:
    environ = {
        **PRODUCTION,
        "REDIS_URL": "redis://cache:6379/2",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_MESSAGING_SERVICE_SID": "MG123",
        "TWILIO_FROM": "89361",
        "TWILIO_API_URL": "http://127.0.0.1:9999",
        "PUBLIC_BASE_URL": "https://sms.example.gov/",
        "PROGRAM_NAME": "CS Alerts",
        "SEND_RATE": "25",
        "QUIET_HOURS": "20:30-08:15",
    }
    settings = load_settings(environ, None, tmp_path)
    for name, value in environ.items():
        if name not in ("SEND_RATE", "QUIET_HOURS", "PUBLIC_BASE_URL"):
            assert getattr(settings, name) == value, name
    assert settings.SEND_RATE == 25.0
    assert settings.QUIET_HOURS == (time(20, 30), time(8, 15))
    assert settings.PUBLIC_BASE_URL == "https://sms.example.gov"
    assert settings.production


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {**PRODUCTION, "PROGRAM_NAME": "From env"}, {"PROGRAM_NAME": "Override"}, tmp_path
    )
    assert settings.PROGRAM_NAME == "Override"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(SECRETS, None, tmp_path)
    assert settings.BOT_ENV == "development"
    assert settings.QUIET_HOURS == (time(21, 0), time(8, 0))
    assert settings.SEND_RATE == 100.0
    assert settings.REDIS_URL is None


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TWILIO_AUTH_TOKEN", "DATA_KEYS", "DATABASE_URL"])
def test_production_names_each_missing_secret(tmp_path: Path, missing: str) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, None, tmp_path)
    message = caught.value.format_message()
    assert missing in message and "\n" not in message
    assert not (tmp_path / "secrets.json").exists()  # production never invents secrets


def test_production_refuses_placeholder_contacts(tmp_path: Path) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != "AGENCY_PHONE"}
    with pytest.raises(ConfigError, match="AGENCY_PHONE"):
        load_settings(environ, None, tmp_path)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("QUIET_HOURS", "9pm-8am", "QUIET_HOURS"),
        ("QUIET_HOURS", "25:00-08:00", "QUIET_HOURS"),
        ("SEND_RATE", "fast", "SEND_RATE"),
        ("SEND_RATE", "0", "SEND_RATE"),
        ("QUEUE_NAME", "sms queue!", "QUEUE_NAME"),
        ("RETENTION_DAYS", "0", "RETENTION_DAYS"),
        ("INBOUND_PER_MINUTE", "0", "INBOUND_PER_MINUTE"),
        ("INBOUND_PER_MINUTE", "lots", "INBOUND_PER_MINUTE"),
        ("SEND_CONCURRENCY", "65", "SEND_CONCURRENCY"),
        ("BOT_ENV", "staging", "BOT_ENV"),
        ("DATA_KEYS", "not-a-key", "DATA_KEYS"),
        ("PUBLIC_BASE_URL", "sms.example.gov", "PUBLIC_BASE_URL"),
    ],
)
def test_malformed_settings_are_named(tmp_path: Path, name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_settings({**SECRETS, name: value}, None, tmp_path)
    if name == "DATA_KEYS":
        assert value not in caught.value.format_message()


def test_unknown_override_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRETKEY"):
        load_settings(SECRETS, {"SECRETKEY": "typo"}, tmp_path)


def test_development_makes_local_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    first = load_settings({}, None, tmp_path)
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.DATABASE_URL == f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    second = load_settings({}, None, tmp_path)
    assert (first.SECRET_KEY, first.DATA_KEYS, first.TWILIO_AUTH_TOKEN) == (
        second.SECRET_KEY,
        second.DATA_KEYS,
        second.TWILIO_AUTH_TOKEN,
    )
    assert json.loads(path.read_text())["DATA_KEYS"] == first.DATA_KEYS
    # A secret given in the environment beats the generated one.
    third = load_settings({"SECRET_KEY": "mine"}, None, tmp_path)
    assert third.SECRET_KEY == "mine" and third.DATA_KEYS == first.DATA_KEYS


def test_contact_settings_that_would_trip_the_guard_stop_start_up(tmp_path: Path) -> None:
    from bot import create_app

    with pytest.raises(ConfigError, match="AGENCY_PHONE") as caught:
        create_app(
            {**SECRETS, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "AGENCY_PHONE": "18005550199"}
        )
    assert "long_number" in caught.value.format_message()


def test_amount_fields_in_templates_need_allow_amounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from bot import app as app_module
    from bot import create_app, replies

    folder = tmp_path / "templates"
    shutil.copytree(replies.TEMPLATES, folder)
    for language in ("en", "es"):
        path = folder / f"{language}.yml"
        path.write_text(
            path.read_text()
            + '\nbalance:\n  text: "{program}: You owe ${amount_due}."\n  fields: [amount_due]\n'
        )
    original = replies.load_templates
    monkeypatch.setattr(app_module, "load_templates", lambda **kw: original(folder, **kw))
    settings = {**SECRETS, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    with pytest.raises(ConfigError, match="amount_due could carry personal data"):
        create_app(settings)
    app = create_app({**settings, "ALLOW_AMOUNTS": "true"})
    assert app.extensions["replies"].render("balance", "en", amount_due="350.00").endswith("You owe $350.00.")


@pytest.mark.parametrize(
    ("quiet", "allowed"),
    [
        ("21:00-08:00", True),
        ("20:00-09:00", True),
        ("22:00-08:00", False),
        ("21:00-07:30", False),
        ("00:00-00:00", False),
        ("08:00-21:00", False),
    ],
)
def test_production_quiet_hours_must_keep_the_rule(tmp_path: Path, quiet: str, allowed: bool) -> None:
    environ = {**PRODUCTION, "QUIET_HOURS": quiet}
    if allowed:
        assert load_settings(environ, None, tmp_path).QUIET_HOURS == parse_quiet_hours(quiet)
    else:
        with pytest.raises(ConfigError, match="QUIET_HOURS must keep at least 21:00-08:00"):
            load_settings(environ, None, tmp_path)


def test_development_may_turn_quiet_hours_off_for_local_runs(tmp_path: Path) -> None:
    settings = load_settings({**SECRETS, "QUIET_HOURS": "00:00-00:00"}, None, tmp_path)
    assert settings.QUIET_HOURS == (time(0, 0), time(0, 0))
