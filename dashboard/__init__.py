"""The supervisors' dashboard: server-rendered pages under /dashboard/ for watching conversations,
working the queue, and answering records requests. Supervisors never text participants from here.

Design:
- `blueprint.py` holds the Blueprint; each page module adds its routes to it; `register` wires it in.
- `fields.py` reads what a request sends: UTF-8 or a 400, ids (`<id:...>` in routes), pages and days.
- `security.py`: sign-in required everywhere but the sign-in page, idle and absolute session expiry,
  CSRF tokens on every POST, role checks, and the response headers (a strict Content-Security-Policy:
  scripts and styles only from /dashboard/static, nothing inline).
- `sync.py` keeps two summaries current from the exchange log (read from where it last stopped): one
  row per conversation for the list page, and the work queue. Pages then read small indexed tables.
- Message bodies are decrypted only for the rows on the page, and always rendered escaped.
- Phone numbers are masked to their last 4 digits; revealing one is a POST and is recorded, like
  opening a transcript and exporting records (storage.access_log).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask


def register(app: Flask) -> None:
    """Add the dashboard's routes to the app."""
    from dashboard import access, auth, conversations, overview, queue, records  # noqa: F401 - routes
    from dashboard.blueprint import blueprint
    from dashboard.fields import IdConverter

    settings = app.extensions["settings"]
    app.url_map.converters["id"] = IdConverter
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=settings.DASHBOARD_SESSION_HOURS)
    app.register_blueprint(blueprint)
