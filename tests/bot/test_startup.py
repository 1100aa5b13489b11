"""The real entry points: the flask CLI and gunicorn, started as an operator would start them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DATA_KEY, ROOT

PRODUCTION_WITHOUT_SECRETS = {
    "BOT_ENV": "production",
    "AGENCY_PHONE": "1-888-555-0142",
    "AGENCY_URL": "https://childsupport.state.example/sms",
}


def environment(**settings: str) -> dict[str, str]:
    """The current environment without any bot setting, plus `settings`."""
    from bot.settings import NAMES

    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    return {**env, **settings}


def test_flask_cli_in_production_without_secrets_fails_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", "migrate"],
        cwd=ROOT,
        env=environment(**PRODUCTION_WITHOUT_SECRETS),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "Error: BOT_ENV=production needs these settings: "
        "SECRET_KEY, TWILIO_AUTH_TOKEN, DATA_KEYS, DATABASE_URL (none is set)"
    ]


def test_gunicorn_in_production_without_secrets_stops_with_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--preload", "--bind", "127.0.0.1:0", "bot.wsgi:app"],
        cwd=ROOT,
        env=environment(**PRODUCTION_WITHOUT_SECRETS, DATA_KEYS=DATA_KEY),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "bot: configuration error: BOT_ENV=production needs these settings: "
        "SECRET_KEY, TWILIO_AUTH_TOKEN, DATABASE_URL (none is set)"
    ) in result.stderr.splitlines()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrate_then_gunicorn_serves_healthz(tmp_path: Path) -> None:
    env = environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        SECRET_KEY="k",
        DATA_KEYS=DATA_KEY,
        TWILIO_AUTH_TOKEN="t",
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "database schema at revision" in migrate.stdout
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "bot.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    status = response.status
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)



@pytest.mark.parametrize(
    "loads",
    [
        pytest.param("import bot.wsgi", id="web worker (bot.wsgi)"),
        # An RQ worker's record of a sent notice also holds the chain lock.
        pytest.param("from bot.outbound import jobs; jobs.app()", id="rq worker (its first job)"),
    ],
)
def test_a_process_leaves_the_app_it_loaded_out_of_the_collectors_walks(tmp_path: Path, loads: str) -> None:
    """A full collection walks only what requests and jobs made, not the ~150,000 objects of the loaded
    app (70 ms a walk; inside a text's hold on the exchange log's chain lock it stalled every worker)."""
    env = environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        SECRET_KEY="k",
        DATA_KEYS=DATA_KEY,
        TWILIO_AUTH_TOKEN="t",
    )
    probe = f"import gc; {loads}; print(gc.get_freeze_count(), len(gc.get_objects()))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, walked = map(int, result.stdout.split())
    assert frozen > 50_000 and walked < frozen // 10, (frozen, walked)
