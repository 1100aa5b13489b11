"""POST /webhooks/sms: an inbound text from Twilio, answered in TwiML."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.datastructures import MultiDict

from bot.conversation import InboundText, Reply, handle_inbound
from bot.extensions import cipher, database, settings
from storage.statements import batched
from webhooks.twilio_request import WebhookRejected, check_signature, parse_form, public_url

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks_sms", __name__)

MAX_BODY = 1600  # Twilio's own limit for one message
MESSAGE_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")  # used with fullmatch: "$" allows a newline
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
ALLOWED_CONTROLS = frozenset("\n\r\t")
# Two deliveries of one MessageSid racing, or two first texts from one new number: the loser's
# transaction fails on a unique key and is run again, and then finds the winner's work.
ATTEMPTS = 3


def inbound_from(params: MultiDict[str, str]) -> InboundText:
    """Check the fields we rely on; raise WebhookRejected(400) naming the first bad one."""
    for name in ("MessageSid", "From", "Body"):
        if name not in params:
            raise WebhookRejected(400, f"missing {name}")
    sid, sender, body = params["MessageSid"], params["From"], params["Body"]
    if not MESSAGE_SID.fullmatch(sid):
        raise WebhookRejected(400, "MessageSid is not a Twilio message SID")
    if not E164.fullmatch(sender):
        raise WebhookRejected(400, "From is not an E.164 phone number")
    if len(body) > MAX_BODY:
        raise WebhookRejected(400, f"Body is longer than {MAX_BODY} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS for ch in body):
        raise WebhookRejected(400, "Body contains control characters")
    return InboundText(sid, sender, body, params.get("OptOutType") or None)


# Exactly what twilio's MessagingResponse writes for these shapes (tests/webhooks/test_twiml.py), without
# building an ElementTree per request.
TWIML_MESSAGE = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>'
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
TWIML_EMPTY_MESSAGE = '<?xml version="1.0" encoding="UTF-8"?><Response><Message /></Response>'


def twiml(reply: Reply) -> Response:
    """The TwiML answer: one <Message>, or an empty <Response/> when nothing may be sent."""
    if reply.text is None:
        body = TWIML_EMPTY
    elif reply.text:
        body = TWIML_MESSAGE.format(escape(reply.text))
    else:  # never from a template, but written as the library writes it
        body = TWIML_EMPTY_MESSAGE
    return Response(body, status=200, mimetype="text/xml")


def _handle(inbound: InboundText, per_minute: int) -> Reply:
    replies, engine = current_app.extensions["replies"], database().engine
    for attempt in range(1, ATTEMPTS + 1):
        # Only a retry looks the MessageSid up first: a repeat fails on a unique key and comes back.
        retry = attempt > 1
        try:
            # A plain connection, no ORM session: the engine's statements need none of its machinery.
            with engine.connect() as connection, connection.begin():
                if retry:  # the duplicate check reads through the ORM: writes run one by one
                    return handle_inbound(
                        connection, cipher(), replies, inbound, check_duplicate=True, per_minute=per_minute
                    )
                # Writes batched: a few statements for PostgreSQL instead of one each (storage.statements).
                with batched(connection):
                    return handle_inbound(
                        connection, cipher(), replies, inbound, check_duplicate=False, per_minute=per_minute
                    )
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
        except DBAPIError as exc:
            # A pooled connection that died (database restarted): the pool has dropped it; try again.
            if not exc.connection_invalidated or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


@blueprint.post("/webhooks/sms")
def receive_sms() -> Response:
    """Verify, decide, record and answer one inbound text."""
    started = time.perf_counter()
    try:
        params = parse_form(request)
        config = settings()
        check_signature(
            request, params, config.TWILIO_AUTH_TOKEN, public_url(request, config.PUBLIC_BASE_URL)
        )
        inbound = inbound_from(params)
    except WebhookRejected as exc:
        log.warning("sms webhook rejected (%s): %s", exc.status, exc)
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
    try:
        reply = _handle(inbound, config.INBOUND_PER_MINUTE)
    except OperationalError as exc:
        log.error("sms webhook: database unavailable (%s)", type(exc).__name__)
        return Response(
            "temporarily unavailable\n", status=503, mimetype="text/plain", headers={"Retry-After": "5"}
        )
    log.info(
        "sms handled: intent=%s template=%s duplicate=%s in %.1f ms",
        reply.intent,
        reply.template_id,
        reply.duplicate,
        (time.perf_counter() - started) * 1000,
    )
    return twiml(reply)
