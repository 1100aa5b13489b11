"""Twilio's Messages REST API: create a message and fetch one, with Twilio's auth, errors and limits.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json         201 Message | 400/401/429/5xx error
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json   200 Message | 401/404 error
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json         200 a page of Messages, newest first
                                                                 (filters: To, From; PageSize, Page)

A create is checked in this order: credentials (20003), rate limit (20429), To (21604, 21211),
From/MessagingServiceSid (21603, 21212), Body (21602, 21617), StatusCallback (21609), an injected
failure (500/503), a refused recipient (21610). Only then is the message created. Every create's
answer (an error too) then waits out the configured latency (asyncio.sleep: creates wait at once, as
at Twilio, which answers in ~100-300 ms); the message and its `created` time are the request's
arrival, its status callbacks start after the answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
from urllib.parse import parse_qsl, quote, urlsplit

from aiohttp import web

from twilio_fake import errors
from twilio_fake.errors import TwilioError
from twilio_fake.message import API_VERSION, Message
from twilio_fake.state import FakeState

STATE = web.AppKey("state", FakeState)
E164 = re.compile(r"\+[1-9]\d{1,14}")
SHORT_CODE = re.compile(r"\d{3,8}")
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
MAX_BODY = 1600
JSON = "application/json"


def error_response(error: TwilioError) -> web.Response:
    return web.Response(status=error.status, body=error.body(), content_type=JSON)


def authorized(request: web.Request, state: FakeState) -> bool:
    """HTTP Basic with AccountSid:AuthToken, for the account named in the path."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (
        hmac.compare_digest(username, state.account_sid)
        and hmac.compare_digest(password, state.auth_token)
        and request.match_info["account_sid"] == state.account_sid
    )


def valid_sender(value: str) -> bool:
    return bool(E164.fullmatch(value) or SHORT_CODE.fullmatch(value) or ALPHANUMERIC_SENDER.fullmatch(value))


def valid_callback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def invalid(form: dict[str, str]) -> TwilioError | None:
    """The first thing wrong with a create's parameters, as Twilio reports it."""
    to = form.get("To", "")
    if not to:
        return errors.TO_REQUIRED
    if not E164.fullmatch(to):
        return errors.invalid_to(to)
    from_ = form.get("From", "")
    if not from_ and not form.get("MessagingServiceSid"):
        return errors.FROM_REQUIRED
    if from_ and not valid_sender(from_):
        return errors.invalid_from(from_)
    body = form.get("Body", "")
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        return errors.BODY_REQUIRED
    if len(body) > MAX_BODY:
        return errors.BODY_TOO_LONG
    callback = form.get("StatusCallback")
    if callback and not valid_callback_url(callback):
        return errors.invalid_status_callback(callback)
    return None


async def create_message(request: web.Request) -> web.Response:
    """A create, answered after the configured latency; many creates wait out their latency at once."""
    state = request.app[STATE]
    state.creates_in_flight += 1
    state.max_creates_in_flight = max(state.max_creates_in_flight, state.creates_in_flight)
    try:
        response, message = await _create(request, state)
        latency = state.behaviour.latency
        if latency > 0:
            await asyncio.sleep(latency)
    finally:
        state.creates_in_flight -= 1
    if message is not None:
        state.deliver(message)  # callbacks only after the create has been answered, as at Twilio
    return response


async def _create(request: web.Request, state: FakeState) -> tuple[web.Response, Message | None]:
    """Check and create; the answer and the new message (None when refused). Times are the arrival's."""
    if not authorized(request, state):
        return reject(state, errors.AUTHENTICATE), None
    behaviour = state.behaviour
    if behaviour.rate_limit is not None and not behaviour.rate_limit.take():
        return reject(state, errors.TOO_MANY_REQUESTS), None
    # parse_qsl on the raw body is several times faster than aiohttp's multidict form parser.
    form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
    problem = invalid(form)
    if problem is not None:
        return reject(state, problem), None
    to = form["To"]
    failure = behaviour.injected_failure(to) if behaviour.failures else None
    if failure is not None:
        return reject(state, errors.injected(failure)), None
    if to in behaviour.refused:
        return reject(state, errors.UNSUBSCRIBED), None
    message = state.create(
        to=to,
        from_=form.get("From") or None,
        service_sid=form.get("MessagingServiceSid") or None,
        body=form.get("Body", ""),
        status_callback=form.get("StatusCallback") or None,
    )
    return web.Response(status=201, body=message.resource_json(), content_type=JSON), message


async def fetch_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not authorized(request, state):
        return reject(state, errors.AUTHENTICATE)
    message = state.messages.get(request.match_info["sid"])
    if message is None:
        return error_response(errors.not_found(request.path))
    return web.Response(status=200, body=message.resource_json(), content_type=JSON)


async def list_messages(request: web.Request) -> web.Response:
    """One page of messages, newest first, as Twilio pages them (next_page_uri null on the last page)."""
    state = request.app[STATE]
    if not authorized(request, state):
        return reject(state, errors.AUTHENTICATE)
    query = request.query
    try:
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        page = max(0, int(query.get("Page", "0")))
    except ValueError:
        return error_response(errors.not_found(request.path))
    found = [
        message
        for message in reversed(state.messages.values())
        if message.to == query.get("To", message.to) and message.from_ == query.get("From", message.from_)
    ]
    chunk = found[page * size : (page + 1) * size]
    path = request.path
    filters = "".join(f"&{name}={quote(query[name])}" for name in ("To", "From") if name in query)
    more = (page + 1) * size < len(found)
    body = {
        "messages": [message.resource() for message in chunk],
        "page": page,
        "page_size": size,
        "start": page * size,
        "end": page * size + max(0, len(chunk) - 1),
        "uri": f"{path}?PageSize={size}&Page={page}{filters}",
        "first_page_uri": f"{path}?PageSize={size}&Page=0{filters}",
        "previous_page_uri": f"{path}?PageSize={size}&Page={page - 1}{filters}" if page else None,
        "next_page_uri": f"{path}?PageSize={size}&Page={page + 1}{filters}" if more else None,
    }
    return web.json_response(body)


def reject(state: FakeState, error: TwilioError) -> web.Response:
    state.rejected[error.code] += 1
    return error_response(error)


def add_routes(app: web.Application) -> None:
    base = f"/{API_VERSION}/Accounts/{{account_sid}}"
    app.router.add_post(f"{base}/Messages.json", create_message)
    app.router.add_get(f"{base}/Messages/{{sid}}.json", fetch_message)
    app.router.add_get(f"{base}/Messages.json", list_messages)
