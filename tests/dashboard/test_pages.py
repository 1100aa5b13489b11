"""Conversations, transcripts, the queue and web exports through the real app, on both databases."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from storage.models import Exchange, OutboundMessage, QueueItem, SupervisorAccess, utcnow
from tests.dashboard.conftest import IMG_TEXT, SCRIPT_TEXT, post
from tests.webhooks.conftest import OPTED_OUT, VERIFIED_EN, VERIFIED_EN_IVR, phone_id


def _access(app, action: str) -> list[str]:  # noqa: ANN001
    with app.extensions["database"].session() as session:
        return list(session.scalars(select(SupervisorAccess.target).where(SupervisorAccess.action == action)))


def test_conversations_are_listed_newest_first_masked_and_escaped(as_role, talked) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    page = client.get("/dashboard/conversations").get_data(as_text=True)
    assert page.index("•••-•••-0102") < page.index("•••-•••-0101")  # 0102 texted last
    assert VERIFIED_EN not in page and VERIFIED_EN_IVR not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and IMG_TEXT not in page
    opted_out = client.get("/dashboard/conversations?consent=opted_out").get_data(as_text=True)
    assert "0102" in opted_out and "0101" not in opted_out
    flagged = client.get("/dashboard/conversations?intent=out_of_scope&flag=open").get_data(as_text=True)
    assert "0101" in flagged and "0102" not in flagged
    none = client.get("/dashboard/conversations?since=2001-01-01&until=2001-01-02").get_data(as_text=True)
    assert "No conversations match" in none


def test_a_transcript_shows_every_message_and_the_consent_history(as_role, talked) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    phone = phone_id(talked, VERIFIED_EN)
    page = client.get(f"/dashboard/conversations/{phone}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT_TEXT not in page
    assert "agent_request" in page and "twiml" in page and "opted in verified" in page
    assert "evidence: DEMO-WEB-0001" in page and "via web" in page
    assert VERIFIED_EN not in page
    assert _access(talked, "view_transcript") == [f"phone #{phone}"]
    assert client.get("/dashboard/conversations/999999").status_code == 404


def test_live_updates_return_only_new_messages(as_role, talked) -> None:  # noqa: ANN001
    from tests.webhooks.conftest import send

    client = as_role("supervisor")
    phone = phone_id(talked, VERIFIED_EN)
    first = client.get(f"/dashboard/conversations/{phone}/messages?after=0")
    last = int(first.headers["X-Last-Seq"])
    assert client.get(f"/dashboard/conversations/{phone}/messages?after={last}").get_data(as_text=True) == ""
    send(talked.test_client(), VERIFIED_EN, "anyone there?")
    fresh = client.get(f"/dashboard/conversations/{phone}/messages?after={last}")
    assert "anyone there?" in fresh.get_data(as_text=True)
    assert int(fresh.headers["X-Last-Seq"]) > last
    rows = client.get("/dashboard/conversations/rows").get_data(as_text=True)
    assert "anyone there?" in rows


def test_revealing_a_number_is_a_recorded_post(as_role, talked) -> None:  # noqa: ANN001
    client = as_role("supervisor")
    phone = phone_id(talked, VERIFIED_EN)
    assert client.get(f"/dashboard/conversations/{phone}/reveal").status_code == 405
    response = post(client, f"/dashboard/conversations/{phone}/reveal")
    assert response.status_code == 302 and VERIFIED_EN not in response.headers["Location"]
    assert VERIFIED_EN in client.get(f"/dashboard/conversations/{phone}").get_data(as_text=True)
    assert _access(talked, "reveal_number") == [f"phone #{phone}"]


def test_the_queue_holds_what_needs_a_person_and_items_are_handled_with_a_note(as_role, talked) -> None:  # noqa: ANN001
    database = talked.extensions["database"]
    cipher = talked.extensions["cipher"]
    opted_out = phone_id(talked, OPTED_OUT)
    with database.transaction() as session:
        # A reply that failed to deliver, and a notice that failed to send.
        session.execute(update(Exchange).where(Exchange.chain_seq == 2).values(delivery_status="undelivered"))
        session.add(
            OutboundMessage(
                phone_number_id=opted_out,
                kind="payment_due",
                template_id="payment_due",
                language="en",
                body_enc=cipher.encrypt("x"),
                status="failed",
                dedupe_key="test-failed-notice",
                error_code=21610,
                attempts=1,
                send_after=utcnow(),
            )
        )
    client = as_role("supervisor")
    page = client.get("/dashboard/queue").get_data(as_text=True)
    for reason in ("agent request", "not understood", "plain language revocation", "delivery failure"):
        assert reason in page, reason
    with database.session() as session:
        items = {item.kind: item for item in session.scalars(select(QueueItem))}
    assert set(items) == {"agent_request", "not_understood", "plain_language_revocation", "delivery_failure"}
    with database.session() as session:
        assert session.scalar(select(QueueItem.id).where(QueueItem.source.like("outbound:%"))) is not None
    # Syncing again adds nothing twice.
    client.get("/dashboard/queue")
    with database.session() as session:
        assert len(session.scalars(select(QueueItem)).all()) == 5
    item = items["agent_request"]
    assert post(client, f"/dashboard/queue/{item.id}/handle", note="").status_code == 400
    assert post(client, f"/dashboard/queue/{item.id}/handle", note="Called back").status_code == 302
    with database.session() as session:
        handled = session.get(QueueItem, item.id)
    assert handled.handled_at is not None and cipher.decrypt(handled.note_enc) == "Called back"
    assert "Called back" in client.get("/dashboard/queue?show=handled").get_data(as_text=True)
    listed = client.get("/dashboard/conversations?flag=open").get_data(as_text=True)
    assert "1 open" in listed  # 0101 still has the not-understood item


def test_the_overview_draws_its_charts(as_role) -> None:  # noqa: ANN001
    page = as_role("supervisor").get("/dashboard/").get_data(as_text=True)
    assert page.count("<svg") == 5
    assert "in: 6" in page and "out: 6" in page  # bar tooltips for today
    assert "agent_request: 1" in page


def test_an_auditor_exports_one_number_or_a_date_range(as_role, talked) -> None:  # noqa: ANN001
    client = as_role("auditor")
    phone = phone_id(talked, VERIFIED_EN)
    response = post(client, "/dashboard/records/export", phone_id=str(phone), format="json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert VERIFIED_EN not in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    assert document["hash_chain"] == {"intact": True, "records_checked": 12, "problem": None}
    assert [m["body"] for m in document["messages"] if m["direction"] == "inbound"][2] == SCRIPT_TEXT
    assert {m["phone"] for m in document["messages"]} == {VERIFIED_EN}
    typed = post(client, "/dashboard/records/export", phone="(919) 555-0102", format="csv")
    assert typed.status_code == 200 and typed.get_data(as_text=True).startswith("record,seq,")
    today = utcnow().date().isoformat()
    ranged = post(client, "/dashboard/records/export", since=today, until=today, format="json")
    assert len(json.loads(ranged.get_data(as_text=True))["messages"]) == 12
    targets = _access(talked, "export")
    assert targets == [
        f"phone #{phone}",
        f"phone #{phone_id(talked, VERIFIED_EN_IVR)}",
        f"range {today}..{today}",
    ]
