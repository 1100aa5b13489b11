"""Point the real twilio library at a Twilio-compatible server, the way twilio-python documents it.

twilio 9.x has no base-URL setting; its documented extension point is a custom `http_client`
(twilio-python advanced-examples/custom-http-client.md). `RedirectingHttpClient` is the library's own
`TwilioHttpClient` (requests, kept-alive Session) with one change: the scheme and host of every
https://*.twilio.com URL become the configured base URL's. Paths, auth, headers and error parsing are
the library's. `edge`/`region` (or TWILIO_EDGE/TWILIO_REGION) only rewrite the *.twilio.com host, which
is replaced anyway.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client


class RedirectingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends requests for *.twilio.com to `base_url` instead."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be http(s)://host[:port], not {base_url!r}")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.prefix = parts.path.rstrip("/")
        if self.session is not None:
            # The library mounts a bigger pool for https:// only; a local server is usually plain http.
            self.session.mount("http://", HTTPAdapter(pool_maxsize=min(32, (os.cpu_count() or 1) + 4)))

    def redirect(self, url: str) -> str:
        parts = urlsplit(url)
        if not (parts.hostname or "").endswith("twilio.com"):
            return url
        return urlunsplit((self.scheme, self.netloc, self.prefix + parts.path, parts.query, parts.fragment))

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            self.redirect(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def client(url: str, account_sid: str, auth_token: str, timeout: float | None = None) -> Client:
    """A real `twilio.rest.Client` whose REST calls go to `url` (e.g. http://127.0.0.1:8765)."""
    return Client(account_sid, auth_token, http_client=RedirectingHttpClient(url, timeout=timeout))
