"""POST /webhooks/status: Twilio's delivery status callbacks for the notices we sent."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, request
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from bot.extensions import cipher, database, settings
from bot.outbound.callbacks import StatusCallback, apply
from webhooks.twilio_request import WebhookRejected, check_signature, parse_form, public_url

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks_status", __name__)

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
STATUS = re.compile(r"[a-z_]{1,20}")
DIGITS = re.compile(r"[0-9]{1,9}")


def callback_from(params: MultiDict[str, str], outbox: str | None) -> StatusCallback:
    """Check the fields we rely on; raise WebhookRejected(400) naming the first bad one."""
    for name in ("MessageSid", "MessageStatus"):
        if name not in params:
            raise WebhookRejected(400, f"missing {name}")
    if not MESSAGE_SID.fullmatch(params["MessageSid"]):
        raise WebhookRejected(400, "MessageSid is not a Twilio message SID")
    if not STATUS.fullmatch(params["MessageStatus"]):
        raise WebhookRejected(400, "MessageStatus is not a status word")
    error = params.get("ErrorCode") or None
    if error is not None and not DIGITS.fullmatch(error):
        raise WebhookRejected(400, "ErrorCode is not a number")
    if outbox is not None and not DIGITS.fullmatch(outbox):
        raise WebhookRejected(400, "the outbox parameter is not a row number")
    return StatusCallback(
        params["MessageSid"],
        params["MessageStatus"],
        int(error) if error else None,
        int(outbox) if outbox else None,
    )


@blueprint.post("/webhooks/status")
def receive_status() -> Response:
    """Verify and apply one status callback; answer 200 with an empty body."""
    try:
        params = parse_form(request)
        config = settings()
        check_signature(
            request, params, config.TWILIO_AUTH_TOKEN, public_url(request, config.PUBLIC_BASE_URL)
        )
        callback = callback_from(params, request.args.get("outbox"))
    except WebhookRejected as exc:
        log.warning("status webhook rejected (%s): %s", exc.status, exc)
        return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
    try:
        with database().transaction() as session:
            change = apply(session, cipher(), callback)
    except OperationalError as exc:
        log.error("status webhook: database unavailable (%s)", type(exc).__name__)
        return Response("temporarily unavailable\n", status=503, mimetype="text/plain")
    if change.outbox_id is None:
        log.info("status callback for a message not in the outbox (status=%s)", callback.message_status)
    elif change.changed:
        log.info("outbound %s: %s -> %s", change.outbox_id, change.before, change.after)
    return Response("", status=200, mimetype="text/plain")
