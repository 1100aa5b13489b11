"""Fixtures shared from the outbound tests: the Twilio fake and a live app."""

from tests.outbound.conftest import fake, live_app  # noqa: F401 - fixtures
