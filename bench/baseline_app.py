"""The baseline for bench/webhook_load.py: the cheapest possible Flask answer to a Twilio inbound SMS.

POST /webhooks/sms parses the form (as any Flask handler would) and returns one fixed TwiML
<Message>. No signature check, no database, no logging, no templates: whatever the real webhook
costs on top of this is the product's own work. Served by the same gunicorn command line as
bot.wsgi:app (`python -m gunicorn --workers N --bind 127.0.0.1:PORT bench.baseline_app:app`).
"""

from __future__ import annotations

from flask import Flask, Response, request

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Child Support Alerts: We got your message. '
    "Reply HELP for help, STOP to cancel.</Message></Response>"
)

app = Flask(__name__)


@app.post("/webhooks/sms")
def receive_sms() -> Response:
    """Read the form like the real handler must, then answer the same fixed TwiML every time."""
    if "MessageSid" not in request.form:
        return Response("missing MessageSid\n", status=400, mimetype="text/plain")
    return Response(TWIML, status=200, mimetype="text/xml")
