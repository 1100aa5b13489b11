"""Fault tests run the service as deployed (gunicorn, PostgreSQL) and break a piece of it.

PostgreSQL is restarted, so these tests start their own server (initdb into a temporary directory, as
the postgres user) instead of touching the machine's shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA_KEY, ROOT, service_missing

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TOKEN = "fault-test-auth-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivatePostgres:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), *args]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)

    def restart(self) -> None:
        """A fast restart: open connections are cut, transactions in flight roll back."""
        self.ctl("restart", "-m", "fast", "-w", "-l", str(self.directory / "log"), "-o", self._options())

    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=on"


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        service_missing("PostgreSQL's initdb (Debian postgresql-15)", f"{PG_BIN / 'initdb'} not found")
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="smsbot-faults-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PrivatePostgres(directory, free_port())
    subprocess.run(
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(directory / "data"), "-A", "trust", "-U", "postgres"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server.ctl("start", "-w", "-l", str(directory / "log"), "-o", server._options())
    try:
        yield server
    finally:
        try:
            server.ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Service:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path  # gunicorn's output: the app's log lines


def service_env(database_url: str, port: int, **more: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "BOT_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fault-secret",
        "DATA_KEYS": DATA_KEY,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **more,
    }


def flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def gunicorn_on(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Service]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, workers: int = 2, **more: str) -> Service:
        port = free_port()
        env = service_env(database_url, port, **more)
        flask(env, "migrate")
        flask(env, "seed-demo")
        log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
        log = open(log_path, "wb")  # noqa: SIM115 - the child writes it
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--preload",
                "bot.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        return Service(f"http://127.0.0.1:{port}", env, process, log_path)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
