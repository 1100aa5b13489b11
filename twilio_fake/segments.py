"""How many SMS segments a body takes: GSM-7 160 (153 per part), otherwise UCS-2 70 (67 per part)."""

from __future__ import annotations

import math

# GSM 03.38 basic set; the extension set costs two septets (escape + character).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")


def septets(body: str) -> int | None:
    """Length in GSM-7 septets, or None when a character needs UCS-2."""
    total = 0
    for char in body:
        if char in GSM_BASIC:
            total += 1
        elif char in GSM_EXTENSION:
            total += 2
        else:
            return None
    return total


def count_segments(body: str) -> int:
    """Segments Twilio bills for this body (an empty body still counts as one)."""
    gsm = septets(body)
    if gsm is not None:
        return 1 if gsm <= 160 else math.ceil(gsm / 153)
    units = len(body.encode("utf-16-le")) // 2  # an emoji is two UTF-16 units
    return 1 if units <= 70 else math.ceil(units / 67)
