"""A full run of the service, inbound and outbound, the dashboard and the operators' commands: its
application log (every logger at INFO, as deployed) holds no phone number, message body or secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask

import twilio_fake
from tests.conftest import DATA_KEY
from tests.outbound.conftest import PAYER, RECEIVER, TODAY, TOKEN
from tests.webhooks.conftest import reply
from tests.webhooks.test_no_plaintext import phone_forms

PASSWORD = "violet-armadillo-7731-password"
INBOUND = [
    (PAYER, "when is my payment due, marmot-5512?"),
    (RECEIVER, "¿recibieron mi pago? tapir-7719"),
    (PAYER, "I want to talk to a person ibex-2291"),
    ("+19195550203", "hello again gecko-3380"),  # opted out: silence
    (RECEIVER, "AYUDA"),
    (PAYER, "please stop texting me lemur-6604"),
]


def test_a_full_run_logs_no_number_body_or_secret(
    live_app: Flask, fake: twilio_fake.FakeTwilio, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.INFO, logger=name)
    runner = live_app.test_cli_runner()
    outputs: list[str] = []

    def command(*args: str, input_text: str | None = None) -> str:
        result = runner.invoke(args=list(args), input=input_text)
        outputs.append(result.output)
        return result.output

    # Outbound: every daily kind, sent through Twilio (the fake), callbacks back over HTTP.
    command("send-reminders", "--today", TODAY.isoformat())
    fake.wait_for_callbacks()
    notices = [message["body"] for message in fake.messages()]
    assert len(notices) == 6
    # Inbound through the real webhook.
    base = live_app.config["PUBLIC_BASE_URL"]
    for number, body in INBOUND:
        reply(live_app.test_client(), number, body, url=f"{base}/webhooks/sms")
    # A bad import that names a phone column.
    bad = tmp_path / "consent.csv"
    bad.write_text(
        "phone,status,method,recorded_at,reference\n919-555-0299,opted_in,fax,2026-01-01T00:00:00-05:00,X\n"
    )
    assert "method" in command("import-consent", str(bad))
    # The dashboard: an admin signs in, lists, opens, reveals and exports.
    command("create-supervisor", "ops@agency.gov", "--role", "admin", input_text=f"{PASSWORD}\n{PASSWORD}\n")
    client = live_app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post(
        "/dashboard/login", data={"email": "ops@agency.gov", "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    assert client.get("/dashboard/conversations").status_code == 200
    export = command("export", "--phone", PAYER, "--format", "json", "--by", "ops@agency.gov")
    assert "marmot-5512" in export  # the export itself is the records request: it must decrypt
    outputs.pop()  # ...and goes to stdout for the operator, not to the log
    command("verify-log")
    command("purge", "--dry-run")

    log = caplog.text
    assert "sms handled" in log and "outbound" in log.lower()  # the log really was captured
    forbidden = [
        form for number in (PAYER, RECEIVER, "+19195550203", "+19195550299") for form in phone_forms(number)
    ]
    forbidden += [body for _, body in INBOUND if "-" in body]
    forbidden += notices + [TOKEN, DATA_KEY, "test-secret-key", PASSWORD]
    leaked = [text for text in forbidden if text in log]
    assert not leaked, f"in the application log: {leaked}"
    said = "\n".join(outputs)
    leaked = [text for text in forbidden if text in said]
    assert not leaked, f"in the commands' output: {leaked}"
