"""`flask --app bot simulate --from NUMBER`: a terminal chat through the real, signed webhook."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.webhooks.conftest import VERIFIED_EN, consent_events, exchange_rows, load_demo
from tests.webhooks.wording import assert_says


@pytest.fixture(autouse=True)
def _keep_log_levels() -> Iterator[None]:
    # simulate turns the webhook's request log down for the chat; keep that out of other tests.
    logger = logging.getLogger("webhooks.sms")
    level = logger.level
    yield
    logger.setLevel(level)


def bot_lines(output: str) -> list[str]:
    return [line.split("bot> ", 1)[1] for line in output.splitlines() if "bot> " in line]


def test_simulate_shows_the_three_replies(demo_app: Flask, runner) -> None:  # noqa: ANN001
    result = runner.invoke(args=["simulate", "--from", VERIFIED_EN], input="help\nstop\nhello\n")
    assert result.exit_code == 0, result.output
    assert f"as {VERIFIED_EN}" in result.output.splitlines()[0]
    help_text, stop_text, silence = bot_lines(result.output)
    assert_says(help_text, "help", "en")
    assert_says(stop_text, "opt_out_confirm", "en")
    assert silence == "(no reply)"
    # It went through the webhook: recorded like any text.
    assert [kind for kind, channel, _ in consent_events(demo_app, VERIFIED_EN)] == [
        "opt_in",
        "help",
        "opt_out",
    ]
    assert [row.direction for row in exchange_rows(demo_app, VERIFIED_EN)] == [
        "inbound",
        "outbound",
        "inbound",
        "outbound",
        "inbound",
    ]


def test_simulate_shows_a_refused_request(demo_app: Flask, runner) -> None:  # noqa: ANN001
    result = runner.invoke(args=["simulate", "--from", "9195550101"], input="hello\n")
    assert result.exit_code == 0, result.output
    assert bot_lines(result.output) == ["(HTTP 400: From is not an E.164 phone number)"]


def test_simulate_signs_for_the_public_base_url(make_app: Callable[..., Flask]) -> None:
    app = make_app(PUBLIC_BASE_URL="https://sms.childsupport.example.gov")
    load_demo(app)
    result = app.test_cli_runner().invoke(args=["simulate", "--from", VERIFIED_EN], input="info\n")
    assert result.exit_code == 0, result.output
    assert "https://sms.childsupport.example.gov/webhooks/sms" in result.output
    (help_text,) = bot_lines(result.output)
    assert_says(help_text, "help", "en")
