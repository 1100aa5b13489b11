"""A local server that speaks Twilio's Messages REST API, for tests and benchmarks (a test double).

It stands in only for Twilio's servers, which cannot be reached here, and speaks their wire protocol so
that the real twilio library is what talks to it:

    twilio.rest.Client --HTTP--> rest_api (create, fetch; Twilio's auth, errors, 21610, 429)
                                    |  state (messages, behaviour)   <-- control_api  /_fake/  <-- FakeTwilio
                                    v
                                 callbacks --signed form POST--> your StatusCallback URL

It imports nothing from the app (storage, consent, intents, bot, webhooks, dashboard) and nothing in
the app imports it: only tests/ and bench/ do (tests/architecture/test_layers.py checks both).

    with twilio_fake.serve() as fake:                     # or spawn(): a separate process
        twilio = fake.client()                            # the real twilio.rest.Client
        twilio.messages.create(to="+15551230001", from_="+15005550006", body="hi",
                               status_callback="http://127.0.0.1:5000/webhooks/status")
        fake.refuse("+15551230002"); fake.max_rate(100); fake.fail_next(2, status=503)
        fake.messages(); fake.callbacks(); fake.wait_for_callbacks(); fake.reset()
"""

from twilio_fake.client import RedirectingHttpClient, client
from twilio_fake.handle import FakeTwilio
from twilio_fake.launch import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, serve, spawn

__all__ = [
    "TEST_ACCOUNT_SID",
    "TEST_AUTH_TOKEN",
    "FakeTwilio",
    "RedirectingHttpClient",
    "client",
    "serve",
    "spawn",
]
