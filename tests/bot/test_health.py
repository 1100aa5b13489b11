"""GET /healthz answers 200 only when the database (and Redis, if configured) work, else 503 naming it."""

from __future__ import annotations

from pathlib import Path

from bot import create_app
from tests.conftest import app_settings


def test_healthy_without_redis(client) -> None:  # noqa: ANN001
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "not configured (jobs run inline)"}


def test_healthy_with_redis(database_url: str, redis_url: str) -> None:
    app = create_app(app_settings(database_url, REDIS_URL=redis_url))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["redis"] == "ok"


def test_redis_down_is_named(database_url: str) -> None:
    app = create_app(app_settings(database_url, REDIS_URL="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["down"] == ["redis"]
    assert response.json["checks"]["redis"].startswith("down (")
    assert response.json["checks"]["database"] == "ok"


def test_database_down_is_named_without_leaking_the_url() -> None:
    app = create_app(app_settings("postgresql://postgres:hunter2@127.0.0.1:1/nowhere"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["down"] == ["database"]
    assert "hunter2" not in response.get_data(as_text=True)


def test_unmigrated_database_is_reported(tmp_path: Path) -> None:
    app = create_app(app_settings(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "not migrated" in response.json["checks"]["database"]
