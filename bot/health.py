"""GET /healthz: is the service able to work (database reachable and migrated, Redis if configured)?"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from bot.extensions import database, redis_connection
from storage import schema

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


def _database_check() -> str:
    try:
        revision = schema.current_revision(database())
    except SQLAlchemyError as exc:
        return f"down ({type(exc).__name__})"
    if revision != schema.head_revision():
        return "not migrated (run: flask --app bot migrate)"
    return "ok"


def _redis_check() -> str:
    connection = redis_connection()
    if connection is None:
        return "not configured (jobs run inline)"
    try:
        connection.ping()
    except RedisError as exc:
        return f"down ({type(exc).__name__})"
    return "ok"


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when every dependency works, else 503 naming what does not."""
    checks = {"database": _database_check(), "redis": _redis_check()}
    failing = [
        name for name, state in checks.items() if not (state == "ok" or state.startswith("not configured"))
    ]
    if failing:
        log.warning("health check failing: %s", ", ".join(f"{n}={checks[n]}" for n in failing))
        return jsonify(status="unavailable", down=failing, checks=checks), 503
    return jsonify(status="ok", checks=checks), 200
