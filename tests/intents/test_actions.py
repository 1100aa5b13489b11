"""intents.actions: the rasa-sdk actions, run as the engine runs them (on a bound session, the participant in
a slot) and as the action server runs them (the sender's phone number, its own session from DATABASE_URL),
against the demo data (bot/demo.py) on SQLite and PostgreSQL; then the real action server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import demo
from intents import case_source
from intents.actions import ACTIONS
from intents.classifier import Intent
from storage import schema
from storage.case_import import import_cases
from storage.crypto import DataCipher
from storage.database import Database
from storage.models import Participant
from tests.conftest import DATA_KEY, ROOT

TODAY = date.today()
# What a dispatcher message holds besides the response and its fields.
MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}

_WEEKDAYS = {"en": "Mon Tue Wed Thu Fri Sat Sun".split(), "es": "lun mar mie jue vie sab dom".split()}
_MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    "es": "ene feb mar abr may jun jul ago sep oct nov dic".split(),
}


def day(days: int, language: str = "en") -> str:
    """A demo date (days from TODAY) as the replies write it."""
    value = TODAY + timedelta(days=days)
    weekday, month = _WEEKDAYS[language][value.weekday()], _MONTHS[language][value.month - 1]
    return f"{weekday} {month} {value.day}" if language == "en" else f"{weekday} {value.day} {month}"


@pytest.fixture
def demo_database(database: Database, cipher: DataCipher) -> Database:
    """The test's database (SQLite or PostgreSQL) with the demo data, dated from TODAY."""
    with database.transaction() as session:
        demo.load(session, cipher, today=TODAY)
    return database


def participant(session: Session, external_id: str) -> int:
    found = session.scalar(select(Participant.id).where(Participant.external_id == external_id))
    assert found is not None, external_id
    return found


def tracker(text: str, intent: str, *, sender_id: str = "engine", **slots: Any) -> Tracker:
    """A tracker as Rasa (or the engine) sends it: the latest message and the slots."""
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": {"language": "en", **slots},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}},
            "events": [],
        }
    )


def response_of(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A dispatcher message as (response, its fields); it carries no text of its own."""
    assert message["text"] is None and message["buttons"] == [] and message["custom"] == {}
    return message["response"], {key: value for key, value in message.items() if key not in MESSAGE_KEYS}


Run = Callable[..., tuple[str, dict[str, Any]]]


@pytest.fixture
def run(demo_database: Database) -> Iterator[Run]:
    """run(intent, text, participant external id, **slots): the action's one response, as the engine
    runs it (on its own session, bound)."""
    with demo_database.session() as session:

        def run_action(
            intent: Intent, text: str, who: str | None, **slots: Any
        ) -> tuple[str, dict[str, Any]]:
            if who is not None:
                slots["participant_id"] = participant(session, who)
            dispatcher = CollectingDispatcher()
            with case_source.bound(session):
                events = ACTIONS[intent]().run(dispatcher, tracker(text, intent.value, **slots), {})
            assert events == []
            assert len(dispatcher.messages) == 1
            return response_of(dispatcher.messages[0])

        yield run_action


# --- the engine's way: a bound session, the participant in a slot ----------------------------------


def test_every_intent_has_its_action_named_after_it() -> None:
    assert set(ACTIONS) == set(Intent)
    for intent, action in ACTIONS.items():
        assert action().name() == f"action_{intent.value}"


def test_the_action_server_registers_exactly_the_answers() -> None:
    executor = ActionExecutor()
    executor.register_package("intents.actions")
    assert {item.name for item in executor.list_actions()} == {f"action_{intent.value}" for intent in Intent}


def test_next_due_date(run: Run) -> None:
    assert run(Intent.NEXT_DUE_DATE, "when is my next payment due", "DEMO-P01") == (
        "utter_next_due_date",
        {"due_date": day(5)},
    )
    assert run(Intent.NEXT_DUE_DATE, "cuando vence mi pago", "DEMO-P03", language="es") == (
        "utter_next_due_date",
        {"due_date": day(12, "es")},
    )


def test_two_cases_are_answered_per_case_or_the_one_named(run: Run) -> None:
    assert run(Intent.NEXT_DUE_DATE, "when is my next payment due", "DEMO-P02") == (
        "utter_next_due_date_cases",
        {"items": f"case ending 0234 on {day(5)}; case ending 0871 on {day(12)}"},
    )
    named = ("utter_next_due_date", {"due_date": day(12)})
    assert run(Intent.NEXT_DUE_DATE, "next payment for 0871", "DEMO-P02") == named
    # Chosen earlier in the conversation (the engine passes it in a slot); the text's own choice wins.
    assert run(Intent.NEXT_DUE_DATE, "when is it due", "DEMO-P02", case_last4="0871") == named
    assert run(Intent.NEXT_DUE_DATE, "and 0234?", "DEMO-P02", case_last4="0871") == (
        "utter_next_due_date",
        {"due_date": day(5)},
    )
    # Digits that are none of the cases: all of them.
    assert run(Intent.NEXT_DUE_DATE, "case 9999", "DEMO-P02")[0] == "utter_next_due_date_cases"


def test_last_payment_paid_by_me_paid_to_me_and_per_case(run: Run) -> None:
    assert run(Intent.LAST_PAYMENT, "did you get my payment", "DEMO-P01") == (
        "utter_last_payment_paid_to_me",
        {"paid_on": day(-10)},
    )
    assert run(Intent.LAST_PAYMENT, "recibieron mi pago 0871", "DEMO-P02", language="es") == (
        "utter_last_payment_paid_by_me",
        {"paid_on": day(-15, "es")},
    )
    assert run(Intent.LAST_PAYMENT, "did you get my payment", "DEMO-P02") == (
        "utter_last_payment_cases",
        {"items": f"case ending 0234 on {day(-10)}; case ending 0871 on {day(-15)}"},
    )


def test_a_federal_tax_offset_gives_the_portal_answer_with_no_fields(run: Run) -> None:
    for language in ("en", "es"):
        assert run(Intent.LAST_PAYMENT, "did you get my payment", "DEMO-P04", language=language) == (
            "utter_payment_see_portal",
            {},
        )


def test_next_appointment_is_the_soonest_scheduled_one(run: Run) -> None:
    # DEMO-100871's cancelled DEMO-A2 (+4) is skipped for the mediation (+14).
    assert run(Intent.NEXT_APPOINTMENT, "cuando es mi cita", "DEMO-P03", language="es") == (
        "utter_next_appointment",
        {
            "kind": "sesion de mediacion",
            "day": day(14, "es"),
            "time": "10:00",
            "office": "Durham Child Support Office",
        },
    )
    assert run(Intent.NEXT_APPOINTMENT, "when is my court date", "DEMO-P02") == (
        "utter_next_appointment",
        {"kind": "court hearing", "day": day(10), "time": "9:30 AM", "office": "Wake County Courthouse"},
    )
    # No appointment on DEMO-300119.
    assert run(Intent.NEXT_APPOINTMENT, "when is my court date", "DEMO-P07") == ("utter_no_appointment", {})


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        (Intent.PAYMENT_OPTIONS, "utter_payment_options"),
        (Intent.OFFICE_INFO, "utter_office_info"),
        (Intent.AGENT_REQUEST, "utter_agent_request"),
        (Intent.UPDATE_INFO, "utter_update_info"),
        (Intent.DOCUMENTS, "utter_documents"),
        (Intent.GREET, "utter_greet"),
        (Intent.THANKS, "utter_thanks"),
        (Intent.HELP, "utter_help_menu"),
        (Intent.OUT_OF_SCOPE, "utter_out_of_scope"),
    ],
)
def test_answers_without_case_data_have_no_fields(run: Run, intent: Intent, response: str) -> None:
    assert run(intent, "anything", "DEMO-P01") == (response, {})


def test_more_than_three_cases_ask_which_one_and_no_due_date_says_so(
    demo_database: Database, cipher: DataCipher, write_csv: Callable[..., Path], run: Run
) -> None:
    rows = [
        f"T-P9,919-555-0159,en,T-CASE-{n},custodial,Wake,{TODAY + timedelta(days=n % 7)},10.00"
        for n in (11, 22)
    ]
    rows += [f"T-P9,919-555-0159,en,T-CASE-{n},custodial,Wake,," for n in (33, 44)]
    rows.append("T-P8,919-555-0158,es,T-CASE-55,noncustodial,Wake,,")
    header = "participant_id,phone,language,case_id,role,county,next_due_date,amount_due"
    with demo_database.transaction() as session:
        import_cases(session, write_csv("cases.csv", header, *rows), cipher)
    assert run(Intent.NEXT_DUE_DATE, "when is my next payment due", "T-P9") == (
        "utter_choose_case",
        {"count": "4", "items": "0011, 0022, 0033, 0044"},
    )
    assert run(Intent.NEXT_DUE_DATE, "for 0033", "T-P9") == ("utter_no_due_date", {})
    assert run(Intent.NEXT_DUE_DATE, "cuando vence", "T-P8", language="es") == ("utter_no_due_date", {})
    assert run(Intent.LAST_PAYMENT, "did you get it", "T-P8") == ("utter_payment_see_portal", {})


def test_a_participant_with_no_case_gets_the_safe_fallback(demo_database: Database, run: Run) -> None:
    with demo_database.transaction() as session:
        session.add(Participant(external_id="T-NOCASE", language="en"))
    assert run(Intent.NEXT_DUE_DATE, "when is my next payment due", "T-NOCASE") == ("utter_safe_fallback", {})


# --- the action server's way: the sender's phone number, DATABASE_URL and DATA_KEYS ----------------


def action_call(
    sender: str, action: str = "action_next_due_date", text: str = "when is my next payment due"
) -> dict:
    """A Rasa action-server request, as Rasa posts it to /webhook."""
    intent = action.removeprefix("action_")
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {"language": "en"},
            "latest_message": {"text": text, "intent": {"name": intent}},
            "events": [],
        },
        "domain": {},
        "version": "3.1.0",
    }


@pytest.fixture
def server_environment(
    database_url: str, demo_database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The action server's settings, in this process: the test's database and key."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_KEYS", DATA_KEY)
    # case_source keeps its Database for the life of the process; this test's must not outlive it.
    case_source._server.cache_clear()
    yield
    database, _ = case_source._server()
    database.dispose()
    case_source._server.cache_clear()


def executed(call: dict) -> list[dict[str, Any]]:
    """What the action server's executor answers to a request (the body /webhook returns)."""
    executor = ActionExecutor()
    executor.register_package("intents.actions")
    result = asyncio.run(executor.run(call)).model_dump()
    assert result["events"] == []
    return result["responses"]


def test_the_action_server_answers_a_verified_sender_from_its_phone_number(server_environment: None) -> None:
    (response,) = executed(action_call("+19195550101"))
    assert response_of(response) == ("utter_next_due_date", {"due_date": day(5)})
    (response,) = executed(action_call("+19195550102", "action_last_payment", "did you get my payment"))
    assert response_of(response)[0] == "utter_last_payment_cases"


@pytest.mark.parametrize(
    "sender",
    [
        "+19195550105",  # opted out
        "+19195550106",  # opted in by text, not verified
        "+19195550107",  # never opted in
        "+19195550188",  # not on file
        "not-a-number",
    ],
)
def test_the_action_server_reads_no_case_for_a_sender_not_opted_in_and_verified(
    server_environment: None, sender: str
) -> None:
    for action in ("action_next_due_date", "action_last_payment", "action_next_appointment"):
        (response,) = executed(action_call(sender, action))
        assert response_of(response) == ("utter_verify_ask", {}), action


# --- the real action server process (the Procfile's `actions`) --------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_sqlite_file(folder: Path) -> str:
    """A migrated SQLite file with the demo data, written under the test key."""
    url = f"sqlite:///{folder / 'actions.sqlite3'}"
    database = Database(url)
    schema.upgrade(database)
    with database.transaction() as session:
        demo.load(session, DataCipher([DATA_KEY]), today=TODAY)
    database.dispose()
    return url


def post_json(url: str, body: dict) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - a local http URL built by the test
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


START_FAILED = ("Experienced exception while trying to serve", "Traceback (most recent call last)")


def wait_for_health(process: subprocess.Popen, base: str, log: Path, timeout: float = 30.0) -> None:
    """Poll GET /health until it answers 200; fail at once if the server exits or says it failed to start
    (Sanic says so at once, then takes seconds to exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if process.poll() is not None or any(sign in output for sign in START_FAILED):
            pytest.fail(
                f"the action server failed to start (exit status {process.poll()}):\n{output[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the action server did not answer {base}/health within {timeout} s")


def test_the_action_server_process_answers_rasa(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": demo_sqlite_file(tmp_path),
        "DATA_KEYS": DATA_KEY,
        "SANIC_HOST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",  # its log as it happens: a failed start shows at once
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "actions.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "intents.actions", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Sanic's workers stop with it
        )
    try:
        wait_for_health(process, base, log)
        status, body = post_json(f"{base}/webhook", action_call("+19195550101"))
        assert status == 200, body
        assert body["events"] == []
        assert [response_of(response) for response in body["responses"]] == [
            ("utter_next_due_date", {"due_date": day(5)})
        ]
        for sender in ("+19195550106", "+19195550105"):  # not verified; opted out
            status, body = post_json(f"{base}/webhook", action_call(sender))
            assert status == 200, body
            assert [response_of(response) for response in body["responses"]] == [("utter_verify_ask", {})]
        status, body = post_json(f"{base}/webhook", action_call("+19195550101", "action_no_such_thing"))
        assert status == 404, body
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop the server and the workers it started (its process group), whether or not it is still up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
