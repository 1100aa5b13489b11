"""Browser tests: real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the app served
by a real HTTP server (werkzeug) in a thread, on its own migrated SQLite database with demo data.

Under CI=true a missing Chromium fails these tests; elsewhere they are skipped with the reason.
`playwright install` is never run: the browser is the distribution's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bot import create_app
from storage import schema
from storage.database import Database
from tests.conftest import ROOT, app_settings, service_missing
from tests.dashboard.conftest import ACCOUNTS, PASSWORD, add_accounts, talk
from tests.webhooks.conftest import load_demo

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "bench" / "out" / "screenshots"  # git-ignored


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a fresh SQLite file: demo data, one account per role, conversations."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'dashboard.sqlite3'}"
    database = Database(url)
    schema.upgrade(database)
    database.dispose()
    os.environ.pop("BOT_ENV", None)
    app = create_app(app_settings(url))
    load_demo(app)
    add_accounts(app)
    talk(app.test_client())
    yield app
    app.extensions["database"].dispose()


@pytest.fixture(scope="module")
def server(live_app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free local port; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the distribution."""
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium at {CHROMIUM}", "not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; every dialog is recorded and dismissed."""
    context = browser.new_context(
        base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


def sign_in_with(page: Any, role: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/dashboard/login")
    page.fill("input[name=email]", ACCOUNTS[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under bench/out/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
