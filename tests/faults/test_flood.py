"""One number flooding the service as deployed (gunicorn, PostgreSQL) while others text it (issue 7).

The flooder sends 300 texts as fast as the service answers them, from one phone (one text after the
other) or as a burst on ten connections at once; six other numbers send 30 texts among them meanwhile.
Every request gets a 200; the others get the replies they get on a quiet day; the flooder is answered up
to INBOUND_PER_MINUTE, told to slow down, then gets silence, and the log says so without its number.
No timing is asserted.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree

import psycopg
import pytest
from twilio.request_validator import RequestValidator

from tests.faults.conftest import TOKEN, PrivatePostgres, Service
from tests.webhooks.conftest import (
    NEVER_OPTED_IN,
    NOT_ON_FILE,
    SAMPLE,
    UNVERIFIED,
    VERIFIED_EN,
    VERIFIED_EN_IVR,
    VERIFIED_ES,
    VERIFIED_ES_FTI,
    new_sid,
)
from tests.webhooks.wording import assert_answered, assert_says

LIMIT = 30  # the default INBOUND_PER_MINUTE
FLOOD = 300
WORKERS = 4
QUESTION = "when is my next payment due"
WARNING = f"WARNING bot.conversation: sms throttled: a number passed {LIMIT} texts a minute"
# Each other number's text and the reply it must get; 5 texts each, 30 in all.
OTHERS: list[tuple[str, str, Callable[[str | None], None]]] = [
    (VERIFIED_EN_IVR, "did you get my payment", lambda text: assert_answered(text, "en")),
    (VERIFIED_ES, "¿cuándo vence mi próximo pago?", lambda text: assert_answered(text, "es")),
    (VERIFIED_ES_FTI, "¿recibieron mi pago?", lambda text: assert_answered(text, "es")),
    (UNVERIFIED, QUESTION, lambda text: assert_says(text, "verify_ask", "en")),
    (NEVER_OPTED_IN, "what is this", lambda text: assert_says(text, "enroll", "en")),
    (NOT_ON_FILE, "hello", lambda text: assert_says(text, "enroll", "en")),
]
EACH = 5


def post(url: str, params: dict[str, str]) -> tuple[int, str | None]:
    """Deliver one text as Twilio does: (status, the reply's text, or None for an empty <Response/>)."""
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    request = urllib.request.Request(  # noqa: S310 - a local test server
        url, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        status, body = answer.status, answer.read()
    message = ElementTree.fromstring(body).find("Message")  # noqa: S314 - the app's own TwiML
    return status, None if message is None else (message.text or "")


def text(number: str, body: str) -> dict[str, str]:
    sid = new_sid()
    return {**SAMPLE, "From": number, "Body": body, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}


@dataclass
class Flood:
    """What the flooder and the others got, in the order the answers came."""

    answers: list[tuple[int, str | None]] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    others: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)

    @property
    def replies(self) -> list[str]:
        return [reply for _, reply in self.answers if reply is not None]


def run_flood(service: Service, streams: int) -> Flood:
    """FLOOD texts from VERIFIED_EN on `streams` connections; the others start once it is past its limit."""
    url = f"{service.url}/webhooks/sms"
    result = Flood(others={number: [] for number, _, _ in OTHERS})
    lock = threading.Lock()
    underway = threading.Event()

    def flooder(count: int) -> None:
        for _ in range(count):
            params = text(VERIFIED_EN, QUESTION)
            outcome = post(url, params)
            with lock:
                result.sids.append(params["MessageSid"])
                result.answers.append(outcome)
                if len(result.answers) > LIMIT + 10:
                    underway.set()

    def other(number: str, body: str) -> None:
        underway.wait(timeout=120)
        for _ in range(EACH):
            outcome = post(url, text(number, body))
            with lock:
                result.others[number].append(outcome)

    threads = [threading.Thread(target=flooder, args=(FLOOD // streams,)) for _ in range(streams)]
    threads += [threading.Thread(target=other, args=(number, body)) for number, body, _ in OTHERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every request answered 200; every other number as on a quiet day.
    assert len(result.answers) == FLOOD and {status for status, _ in result.answers} == {200}
    for number, _, check in OTHERS:
        assert [status for status, _ in result.others[number]] == [200] * EACH, number
        for _, reply in result.others[number]:
            check(reply)
    return result


def recorded(database_url: str, sids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """The flood's inbound records by intent, and the replies recorded to them by template."""
    with psycopg.connect(database_url) as connection:
        intents = connection.execute(
            "SELECT intent, count(*) FROM exchanges WHERE message_sid = ANY(%s) GROUP BY intent", (sids,)
        ).fetchall()
        templates = connection.execute(
            "SELECT template_id, count(*) FROM exchanges WHERE reply_to_seq IN"
            " (SELECT chain_seq FROM exchanges WHERE message_sid = ANY(%s)) GROUP BY template_id",
            (sids,),
        ).fetchall()
    return dict(intents), dict(templates)


def logged_warnings(service: Service) -> list[str]:
    log = service.log.read_text()
    assert "9195550101" not in log and "555-0101" not in log and QUESTION not in log
    return re.findall(r"WARNING .*throttled.*", log)


@pytest.fixture
def service(private_postgres: PrivatePostgres, gunicorn_on) -> Service:  # noqa: ANN001
    return gunicorn_on(private_postgres.url, workers=WORKERS)


def test_one_phone_flooding_is_answered_to_its_limit_told_once_then_silent(
    service: Service, private_postgres: PrivatePostgres
) -> None:
    flood = run_flood(service, streams=1)
    for _, reply in flood.answers[:LIMIT]:
        assert_answered(reply, "en")
    assert_says(flood.answers[LIMIT][1], "throttled", "en")
    assert [reply for _, reply in flood.answers[LIMIT + 1 :]] == [None] * (FLOOD - LIMIT - 1)
    # Every text recorded; only the replies actually sent recorded as sent.
    intents, templates = recorded(private_postgres.url, flood.sids)
    assert intents == {"next_due_date": LIMIT, "throttled": FLOOD - LIMIT}
    assert templates.pop("throttled") == 1 and sum(templates.values()) == LIMIT
    assert logged_warnings(service) == [WARNING]


def test_a_burst_from_one_number_on_many_connections_is_throttled_and_told(
    service: Service, private_postgres: PrivatePostgres
) -> None:
    flood = run_flood(service, streams=10)
    # Texts in flight at once each count what was committed when they began: the limit may be passed,
    # and the number told, once per text in flight (one per worker), but never left untold.
    told = [reply for reply in flood.replies if "You sent many texts" in reply]
    answered = [reply for reply in flood.replies if reply not in told]
    assert 1 <= len(told) <= WORKERS
    assert LIMIT <= len(answered) <= LIMIT + WORKERS - 1
    for reply in answered:
        assert_answered(reply, "en")
    for reply in told:
        assert_says(reply, "throttled", "en")
    intents, templates = recorded(private_postgres.url, flood.sids)
    assert intents == {"next_due_date": len(answered), "throttled": FLOOD - len(answered)}
    assert templates.pop("throttled") == len(told) and sum(templates.values()) == len(answered)
    assert logged_warnings(service) == [WARNING] * len(told)
