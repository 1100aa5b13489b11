"""Segment counting: GSM-7 160/153, UCS-2 70/67, extension characters count twice."""

from __future__ import annotations

import pytest

from twilio_fake.segments import count_segments


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension set: two septets each
        ("€" * 81, 2),
        ("ñé" * 80, 1),  # in GSM-7
        ("á" * 70, 1),  # not in GSM-7
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("\N{GRINNING FACE}" * 35, 1),  # two UTF-16 units each
        ("\N{GRINNING FACE}" * 36, 2),
        ("Pay by Friday \u2019", 1),
    ],
)
def test_segments(body: str, segments: int) -> None:
    assert count_segments(body) == segments
