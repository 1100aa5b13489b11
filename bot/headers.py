"""Security headers on every response the app sends (the dashboard sets a stricter CSP of its own)."""

from __future__ import annotations

from flask import Flask, Response

# Nothing the API answers (TwiML, plain text, JSON) is a page: it may load nothing and be framed nowhere.
BASE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def install(app: Flask, *, production: bool) -> None:
    """Add the headers after every request; never override what a blueprint set on purpose."""
    headers = dict(BASE)
    if production:
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        # Replies can carry case facts: no cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
