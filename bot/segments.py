"""How many SMS segments a text takes: GSM-7 (160, or 153 a part) or UCS-2 (70, or 67 a part)."""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# These take two septets each (an escape, then the character).
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    """A text's encoding and the number of segments a carrier bills."""

    encoding: str
    units: int
    segments: int


def count_segments(text: str) -> SegmentCount:
    """Count segments as carriers do: any non-GSM-7 character makes the whole text UCS-2."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return SegmentCount("GSM-7", units, 1 if units <= 160 else math.ceil(units / 153))
    units = len(text.encode("utf-16-le")) // 2
    return SegmentCount("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))
