"""The dashboard in real Chromium: sign in, transcripts, live updates, the queue, exports, hostile text,
signed-out redirects, CSRF, roles."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from storage.models import QueueItem
from tests.browser.conftest import screenshot, sign_in_with
from tests.dashboard.conftest import IMG_TEXT, SCRIPT_TEXT
from tests.dashboard.test_access_control import PAGES
from tests.webhooks.conftest import VERIFIED_EN, phone_id, send


def test_a_supervisor_reads_a_transcript_live_and_hostile_text_stays_text(page: Any, live_app: Flask) -> None:
    sign_in_with(page, "supervisor")
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.locator("svg.chart rect").count() > 0
    screenshot(page, "overview")

    page.click("text=Conversations")
    row = page.locator("#conversation-rows tr", has_text="0101")
    assert row.locator(".preview").inner_text() == IMG_TEXT  # the latest text, shown as text
    assert "+19195550101" not in page.content()  # masked
    row.locator("a.number").click()
    page.wait_for_url("**/dashboard/conversations/*")
    assert "0101" not in page.url and "555" not in page.url
    messages = page.locator("#messages")
    assert messages.get_by_text(SCRIPT_TEXT, exact=True).is_visible()
    assert messages.get_by_text(IMG_TEXT, exact=True).is_visible()
    assert messages.locator("img, script").count() == 0
    assert page.locator("aside .consent li").count() >= 1
    assert page.get_by_text("evidence:").first.is_visible()
    screenshot(page, "transcript")

    # Someone texts while the page is open: it appears without a reload.
    send(live_app.test_client(), VERIFIED_EN, "are you still there? <b>bold</b>")
    messages.get_by_text("are you still there? <b>bold</b>", exact=True).wait_for(timeout=10_000)
    assert messages.locator("b").count() == 0

    # Revealing the number is a POST; it is then shown.
    page.click("text=Reveal number (recorded)")
    assert page.locator("#number").inner_text() == VERIFIED_EN
    assert page.dialogs == []  # no script ran: no alert() fired


def test_a_supervisor_marks_a_queue_item_handled(page: Any, live_app: Flask) -> None:
    sign_in_with(page, "supervisor")
    page.click("text=Queue")
    first = page.locator("table.queue tbody tr").first
    kind = first.locator(".flag").inner_text()
    first.locator("input[name=note]").fill("Called back, resolved")
    first.locator("button", has_text="Mark handled").click()
    assert page.get_by_text("Marked handled.").is_visible()
    page.click(".tabs a:text-is(\"Handled\")")
    handled = page.locator("table.queue tbody tr").first
    assert kind in handled.inner_text() and "Called back, resolved" in handled.inner_text()
    assert page.dialogs == []


def test_an_auditor_exports_a_number_and_cannot_do_admin_work(page: Any, live_app: Flask) -> None:
    sign_in_with(page, "auditor")
    assert page.locator("nav a", has_text="Access log").count() == 0
    page.goto(f"/dashboard/conversations/{phone_id(live_app, VERIFIED_EN)}")
    with page.expect_download() as download_info:
        page.click("text=Export this number's records")
    exported = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    assert exported["hash_chain"]["intact"] is True
    assert SCRIPT_TEXT in [m["body"] for m in exported["messages"]]
    assert exported["consent_events"]
    for url in ("/dashboard/access", "/dashboard/accounts"):
        assert page.goto(url).status == 403
    assert page.request.post("/dashboard/accounts/1/unlock", form={"csrf_token": "x"}).status in (400, 403)
    # Auditors do not work the queue: no form, and a forged post is refused.
    page.goto("/dashboard/queue")
    assert page.locator("table.queue form").count() == 0


def test_signed_out_every_page_goes_to_sign_in(page: Any) -> None:
    for url in PAGES:
        page.goto(url)
        assert page.url.endswith("/dashboard/login"), url


def test_a_form_posted_without_its_csrf_token_is_refused(page: Any, live_app: Flask) -> None:
    sign_in_with(page, "supervisor")
    page.goto("/dashboard/queue")
    form = page.locator("table.queue form").first
    item_action = form.get_attribute("action")
    form.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    form.locator("input[name=note]").fill("no token")
    with page.expect_navigation() as navigation:
        form.locator("button").click()
    assert navigation.value.status == 400
    item_id = int(item_action.rstrip("/").split("/")[-2])
    with live_app.extensions["database"].session() as session:
        assert session.scalar(select(QueueItem.handled_at).where(QueueItem.id == item_id)) is None
