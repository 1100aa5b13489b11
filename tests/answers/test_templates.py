"""Reply templates: every one fits 2 SMS segments in GSM-7 with the longest realistic values, loading refuses
fields that could carry personal data, and segments are counted as carriers bill them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from bot.outbound.announcements import ANNOUNCEMENT_MAX_CHARS
from bot.replies import LANGUAGES, Replies, TemplateError, load_templates
from bot.segments import SegmentCount, count_segments
from intents import wording

# The longest values a field takes: 40-character office names, three cases in a list, the longest
# kind of appointment, a two-digit day, a 4-digit time and the settings' longest real-looking values.
SETTINGS = {
    "program": "Child Support Alerts",
    "agency_phone": "1-800-555-0199",
    "agency_url": "https://childsupport.example.gov/text",
}
LONG_DAY = date(2026, 12, 30)
LONG_TIME = datetime(2026, 12, 30, 12, 45)
OFFICE = "Northampton County Child Support Offices"
assert len(OFFICE) == 40


def longest_fields(language: str) -> dict[str, str]:
    """Each declared field at its longest, written by the same helpers the actions use."""
    cases = ("0234", "0871", "1456")
    return {
        "due_date": wording.day(LONG_DAY, language),
        "paid_on": wording.day(LONG_DAY, language),
        "day": wording.day(LONG_DAY, language),
        "time": wording.clock(LONG_TIME, language),
        "kind": max((wording.kind(kind, language) for kind in wording.KINDS["en"]), key=len),
        "office": OFFICE,
        "items": "; ".join(wording.case_item(last4, LONG_DAY, language) for last4 in cases),
        "count": "9",
        "case_last4": "0234",
        "message": "M" * ANNOUNCEMENT_MAX_CHARS,
    }


TEMPLATES = load_templates()
IDS = sorted({template_id for template_id, _ in TEMPLATES})


def test_every_template_exists_in_both_languages_with_the_same_fields() -> None:
    for template_id in IDS:
        english, spanish = TEMPLATES[(template_id, "en")], TEMPLATES[(template_id, "es")]
        assert english.fields == spanish.fields, template_id


def test_answer_pending_is_gone() -> None:
    # The answering step replaced it (issue 4): nothing may still send it.
    assert "answer_pending" not in IDS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template_id", IDS)
def test_every_template_fits_two_gsm7_segments(template_id: str, language: str) -> None:
    template = TEMPLATES[(template_id, language)]
    unknown = template.fields - set(longest_fields(language))
    assert not unknown, f"no longest value known for {sorted(unknown)}: add one to this test"
    fields = {name: value for name, value in longest_fields(language).items() if name in template.fields}
    text = Replies(SETTINGS, TEMPLATES).render(template_id, language, **fields)
    count = count_segments(text)
    assert count.encoding == "GSM-7", f"{template_id}/{language} is UCS-2: {text!r}"
    assert count.segments <= 2, f"{template_id}/{language} takes {count.segments} segments: {text!r}"


def test_a_choice_among_many_cases_still_fits() -> None:
    # choose_case lists every case's last 4 digits: nine cases is more than any parent has.
    items = ", ".join(f"{n:04d}" for n in range(1001, 1010))
    for language in LANGUAGES:
        text = Replies(SETTINGS, TEMPLATES).render("choose_case", language, count="9", items=items)
        assert count_segments(text).segments <= 2, text


# --- load_templates refuses what could leak --------------------------------------------------------


def write_templates(folder: Path, english: str, spanish: str | None = None) -> Path:
    (folder / "en.yml").write_text(english, encoding="utf-8")
    (folder / "es.yml").write_text(english if spanish is None else spanish, encoding="utf-8")
    return folder


def one_template(field: str) -> str:
    return f'greeting:\n  text: "{{program}}: Hi {{{field}}}."\n  fields: [{field}]\n'


@pytest.mark.parametrize(
    "field", ["first_name", "ssn", "case_id", "home_address", "employer_name", "amount_due"]
)
def test_a_field_that_could_carry_personal_data_is_refused(tmp_path: Path, field: str) -> None:
    with pytest.raises(
        TemplateError, match=rf"en\.yml: greeting: field\(s\) {field} could carry personal data"
    ):
        load_templates(write_templates(tmp_path, one_template(field)))


def test_amounts_are_allowed_when_the_agency_allows_them(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, one_template("amount_due"))
    loaded = load_templates(folder, allow_amounts=True)
    assert loaded[("greeting", "es")].fields == frozenset({"amount_due"})
    # Allowing amounts allows nothing else.
    with pytest.raises(TemplateError, match="ssn"):
        load_templates(write_templates(tmp_path, one_template("ssn")), allow_amounts=True)


def test_an_undeclared_placeholder_is_refused(tmp_path: Path) -> None:
    folder = write_templates(tmp_path, 'due:\n  text: "{program}: due {due_date}."\n')
    with pytest.raises(TemplateError, match=r"en\.yml: due: uses undeclared field\(s\) due_date"):
        load_templates(folder)


def test_a_missing_spanish_template_is_refused(tmp_path: Path) -> None:
    english = 'hi:\n  text: "{program}: Hi."\nbye:\n  text: "{program}: Bye."\n'
    folder = write_templates(tmp_path, english, spanish='hi:\n  text: "{program}: Hola."\n')
    with pytest.raises(TemplateError, match=r"es\.yml lacks bye"):
        load_templates(folder)


def test_a_field_not_declared_is_refused_when_rendering() -> None:
    replies = Replies(SETTINGS, TEMPLATES)
    with pytest.raises(TemplateError, match="not declared: due_date"):
        replies.render("greet", "en", due_date="Fri Dec 12")


# --- segments --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 80 + "a", "GSM-7", 161, 2),
        ("[]{}" * 20 + "^", "GSM-7", 162, 2),
        ("ñÑéü¿¡" + "a" * 154, "GSM-7", 160, 1),  # Spanish letters that GSM-7 has
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" + "a" * 69, "UCS-2", 70, 1),  # one character outside GSM-7 makes the whole text UCS-2
        ("á" + "a" * 70, "UCS-2", 71, 2),
        ("ó" + "a" * 133, "UCS-2", 134, 2),
        ("ó" + "a" * 134, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 35 + "a", "UCS-2", 71, 2),
        ("", "GSM-7", 0, 1),
    ],
)
def test_count_segments(text: str, encoding: str, units: int, segments: int) -> None:
    assert count_segments(text) == SegmentCount(encoding, units, segments)
