"""The Flask application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis
from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import extensions, headers
from bot.guard import blocked_reason
from bot.replies import Replies, TemplateError, check_settings_against, load_templates
from bot.settings import ConfigError, load_settings
from storage.crypto import DataCipher
from storage.database import Database

ROOT = Path(__file__).resolve().parent.parent


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except for Twilio's webhooks: they never carry a cookie, and
    opening one (a serializer and a signer per request) costs the SMS webhook 4% of its Python."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """A null session under /webhooks/, the signed cookie's session elsewhere."""
        if request.path.startswith("/webhooks/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from defaults, the environment and `overrides`; never changes the schema."""
    app = Flask("bot", instance_path=str(ROOT / "instance"))
    app.session_interface = CookieSessions()
    settings = load_settings(os.environ, overrides, Path(app.instance_path))
    app.config.from_mapping(settings.as_config())
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions["settings"] = settings
    # A worker's senders (SEND_CONCURRENCY threads) and the job's own thread each need a connection.
    app.extensions["database"] = Database(settings.DATABASE_URL, threads=settings.SEND_CONCURRENCY + 1)
    app.extensions["cipher"] = DataCipher.from_setting(settings.DATA_KEYS)
    app.extensions["redis"] = (
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
        if settings.REDIS_URL
        else None
    )
    app.teardown_appcontext(extensions.close_db_session)
    headers.install(app, production=settings.production)
    if not app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    # Dollar amounts may appear in replies only when the agency says so (ALLOW_AMOUNTS).
    contacts = {
        "program": settings.PROGRAM_NAME,
        "agency_phone": settings.AGENCY_PHONE,
        "agency_url": settings.AGENCY_URL,
    }
    try:
        templates = load_templates(allow_amounts=settings.ALLOW_AMOUNTS)
        replies = Replies(contacts, templates)
        check_settings_against(replies, templates, blocked_reason)
    except TemplateError as exc:
        raise ConfigError(str(exc)) from None
    app.extensions["replies"] = replies
    if settings.TRUSTED_PROXIES:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings.TRUSTED_PROXIES,
            x_proto=settings.TRUSTED_PROXIES,
            x_host=settings.TRUSTED_PROXIES,
        )

    # The edges are imported here, not at the top: they sit above bot/ and import it themselves.
    from bot import cli, health
    from dashboard import register as register_dashboard
    from webhooks import sms, status

    app.register_blueprint(health.blueprint)
    app.register_blueprint(sms.blueprint)
    app.register_blueprint(status.blueprint)
    register_dashboard(app)
    cli.register(app)
    return app
