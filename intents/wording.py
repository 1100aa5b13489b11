"""Dates, times and kinds of appointment written the way a short text says them, in English or Spanish.

No locale is used: the words are here, so the output is the same on every server.
"""

from __future__ import annotations

from datetime import date, datetime

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}
WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mie", "jue", "vie", "sab", "dom"),
}
KINDS = {
    "en": {
        "hearing": "court hearing",
        "appointment": "appointment",
        "genetic_testing": "genetic testing appointment",
        "mediation": "mediation",
    },
    # Feminine nouns only, so "Su proxima {kind}" reads right for each.
    "es": {
        "hearing": "audiencia",
        "appointment": "cita",
        "genetic_testing": "cita de prueba genetica",
        "mediation": "sesion de mediacion",
    },
}


def _language(language: str) -> str:
    return language if language in MONTHS else "en"


def day(value: date, language: str) -> str:
    """'Fri Dec 12' or 'vie 12 dic'."""
    lang = _language(language)
    weekday, month = WEEKDAYS[lang][value.weekday()], MONTHS[lang][value.month - 1]
    return f"{weekday} {month} {value.day}" if lang == "en" else f"{weekday} {value.day} {month}"


def clock(value: datetime, language: str) -> str:
    """'9:30 AM' or '9:30' (24-hour, as Spanish texts write it)."""
    if _language(language) == "es":
        return f"{value.hour}:{value.minute:02d}"
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


def kind(name: str, language: str) -> str:
    """The kind of appointment in words."""
    return KINDS[_language(language)].get(name, KINDS[_language(language)]["appointment"])


def case_item(last4: str, value: date, language: str) -> str:
    """One case in a list: 'case ending 0234 on Fri Dec 12'."""
    if _language(language) == "es":
        return f"caso que termina en {last4}: {day(value, language)}"
    return f"case ending {last4} on {day(value, language)}"
