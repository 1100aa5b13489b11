"""Reading what a request sends: well-formed UTF-8 first, then ids, page numbers and days.

A query string or form that is not UTF-8 is refused as a whole (400). Left to werkzeug, raw bytes in a
query string raise (a 500), a form holding them is dropped (and then blamed on its CSRF token), and
percent-encoded ones are kept as "%FF" text. Ids in URLs and forms are ASCII digits that fit the 32-bit
INTEGER columns; anything else would reach the database and fail there.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1  # the id columns are 32-bit INTEGER on both databases
_NUMBER = re.compile(r"[0-9]{1,10}")  # no more digits than MAX_ID has (int() of 5000 digits raises)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a row id, ASCII digits up to MAX_ID (anything else is a 404)."""

    regex = _NUMBER.pattern

    def __init__(self, map: Map) -> None:
        super().__init__(map, max=MAX_ID)


def check_encoding() -> None:
    """Refuse (400) a query string or a URL-encoded form that is not UTF-8."""
    try:
        query = request.query_string.decode("utf-8")
        parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        abort(400, "the query string is not valid UTF-8")
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        # Cached: request.form is then parsed from the same bytes.
        try:
            parse_qsl(request.get_data(cache=True).decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            abort(400, "the form is not valid UTF-8")


def whole_number(value: str) -> int | None:
    """An id or page number: ASCII digits, 1 to MAX_ID; None for anything else."""
    if not _NUMBER.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def day(value: str) -> date | None:
    """A day written YYYY-MM-DD (as an <input type=date> sends it); None for anything else."""
    if not _DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None
