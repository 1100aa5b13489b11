"""Several cases on one number: answered per case, or the one chosen by its last 4 digits, for a while."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from storage.models import Exchange
from tests.webhooks.conftest import reply

TWO_CASES = "+19195550102"  # paying parent on DEMO-100234 and DEMO-100871


def test_a_question_is_answered_per_case_then_a_choice_narrows_it(demo_app: Flask, demo_client) -> None:
    both = reply(demo_client, TWO_CASES, "when is my next payment due")
    assert "case ending 0234" in both and "case ending 0871" in both
    chosen = reply(demo_client, TWO_CASES, "0871")
    assert chosen.startswith("Child Support Alerts: Your next child support payment is due")
    assert "0234" not in chosen
    # The choice holds for the next question too.
    paid = reply(demo_client, TWO_CASES, "did you get my payment")
    assert "We received your last payment" in paid and "case ending" not in paid


def test_the_choice_is_forgotten_after_30_minutes(demo_app: Flask, demo_client) -> None:
    reply(demo_client, TWO_CASES, "when is my next payment due")
    reply(demo_client, TWO_CASES, "0871")
    with demo_app.extensions["database"].transaction() as session:
        # Age the conversation by 31 minutes (the log's chain is not what this test is about).
        for record in session.scalars(select(Exchange)):
            record.occurred_at -= timedelta(minutes=31)
    again = reply(demo_client, TWO_CASES, "when is my next payment due")
    assert "case ending 0234" in again and "case ending 0871" in again


@pytest.mark.parametrize("digits", ["9999", "0234"])
def test_a_bare_number_without_a_question_before_is_not_a_choice(demo_client, digits: str) -> None:
    text = reply(demo_client, TWO_CASES, digits)
    assert "Your next child support payment" not in text
