"""Announcements: agency-wide texts, approved through the CLI, checked like every template."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.guard import blocked_reason
from bot.replies import Replies
from bot.segments import count_segments
from storage.models import Announcement

# With the program name and the STOP line around it, this keeps an announcement within 2 segments.
ANNOUNCEMENT_MAX_CHARS = 200


class AnnouncementRejected(ValueError):
    """The text may not be sent as an announcement; the message says which language and why."""


def check_text(replies: Replies, language: str, text: str) -> str:
    """Return the text cleaned of surrounding space, or raise AnnouncementRejected saying why."""
    label = {"en": "English", "es": "Spanish"}[language]
    text = " ".join(text.split())
    if not text:
        raise AnnouncementRejected(f"the {label} text is empty")
    if len(text) > ANNOUNCEMENT_MAX_CHARS:
        raise AnnouncementRejected(
            f"the {label} text has {len(text)} characters; at most {ANNOUNCEMENT_MAX_CHARS}"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise AnnouncementRejected(f"the {label} text contains control characters")
    reason = blocked_reason(text)
    if reason is not None:
        raise AnnouncementRejected(
            f"the {label} text looks like personal data ({reason}); announcements go to everyone"
        )
    rendered = replies.render("notice_announcement", language, message=text)
    count = count_segments(rendered)
    if count.encoding != "GSM-7":
        raise AnnouncementRejected(
            f"the {label} text has characters outside GSM-7 (e.g. curly quotes, emoji, á í ó ú); "
            "each would make it a UCS-2 text of 70 characters a segment"
        )
    if count.segments > 2:
        raise AnnouncementRejected(f"the {label} text makes a {count.segments}-segment message; at most 2")
    return text


def approve(
    session: Session, replies: Replies, name: str, english: str, spanish: str, approved_by: str
) -> Announcement:
    """Store an approved announcement under a new name (an approved text is never changed)."""
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise AnnouncementRejected("the name must be 1-64 letters, digits, - or _")
    if session.scalar(select(Announcement.id).where(Announcement.name == name)) is not None:
        raise AnnouncementRejected(
            f"an announcement named {name!r} exists already; approved texts do not change"
        )
    announcement = Announcement(
        name=name,
        text_en=check_text(replies, "en", english),
        text_es=check_text(replies, "es", spanish),
        approved_by=approved_by[:128],
    )
    session.add(announcement)
    session.flush()
    return announcement


def find(session: Session, name: str) -> Announcement | None:
    """An approved announcement by name."""
    return session.scalar(select(Announcement).where(Announcement.name == name))
