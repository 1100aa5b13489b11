"""Shared pieces for the answers' tests: the webhook fixtures, and the exact text a reply must be.

`expected` renders a template straight from bot/templates/{lang}.yml with the test app's settings, so a
test compares the whole reply (template, language and every fact) without going through bot/replies.py.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from ruamel.yaml import YAML

from storage.models import Exchange
from tests.conftest import ROOT
from tests.webhooks.conftest import (  # noqa: F401 - fixtures for the tests in this folder
    AGENCY_PHONE,
    AGENCY_URL,
    PROGRAM,
    demo_app,
    demo_client,
    exchange_rows,
)

TEMPLATE_FOLDER = ROOT / "bot" / "templates"
SETTINGS_FIELDS = {"program": PROGRAM, "agency_phone": AGENCY_PHONE, "agency_url": AGENCY_URL}


def _read(path: Path) -> dict[str, dict]:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


TEMPLATES = {language: _read(TEMPLATE_FOLDER / f"{language}.yml") for language in ("en", "es")}


def expected(template: str, language: str, **fields: str) -> str:
    """The reply a template gives in a language with these fields (and the test app's settings)."""
    return TEMPLATES[language][template]["text"].format(**SETTINGS_FIELDS, **fields)


def last_exchange(app: Flask, number: str) -> tuple[Exchange, Exchange]:
    """The number's last inbound record and the reply logged for it."""
    rows = exchange_rows(app, number)
    inbound, outbound = rows[-2], rows[-1]
    assert (inbound.direction, outbound.direction) == ("inbound", "outbound")
    assert outbound.reply_to_seq == inbound.chain_seq
    return inbound, outbound
