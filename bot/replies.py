"""Reply templates: loaded from templates/{en,es}.yml, checked, and rendered; nothing else is sent.

A template names the fields it uses. Fields that could carry personal data (names, SSNs, full case
numbers, addresses, employers, bank details, email) are refused when the templates are loaded.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# Always available: the program's own contact details, from settings.
SETTINGS_FIELDS = frozenset({"program", "agency_phone", "agency_url"})
FORBIDDEN_FIELD = re.compile(
    r"name|ssn|social|birth|dob|address|street|employer|bank|account|email|case_(id|number|ref)$",
    re.IGNORECASE,
)


class TemplateError(ValueError):
    """A template file is malformed or a template uses a field it may not."""


@dataclass(frozen=True)
class Template:
    """One reply text in one language, with the fields it declares."""

    id: str
    language: str
    text: str
    fields: frozenset[str]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


AMOUNT_FIELD = re.compile(r"amount|balance|arrear", re.IGNORECASE)


def load_templates(
    folder: Path = TEMPLATES, *, allow_amounts: bool = False
) -> dict[tuple[str, str], Template]:
    """Load and check every language's file; raise TemplateError naming the file and template.

    Dollar amounts are refused too unless the agency allows them (allow_amounts).
    """
    yaml = YAML(typ="safe")
    templates: dict[tuple[str, str], Template] = {}
    for language in LANGUAGES:
        path = folder / f"{language}.yml"
        data = yaml.load(path.read_text(encoding="utf-8")) or {}
        for template_id, entry in data.items():
            where = f"{path.name}: {template_id}"
            if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
                raise TemplateError(f"{where}: needs a text")
            declared = frozenset(entry.get("fields") or ())
            forbidden = sorted(
                name
                for name in declared
                if FORBIDDEN_FIELD.search(name) or (not allow_amounts and AMOUNT_FIELD.search(name))
            )
            if forbidden:
                raise TemplateError(f"{where}: field(s) {', '.join(forbidden)} could carry personal data")
            undeclared = sorted(_placeholders(entry["text"]) - declared - SETTINGS_FIELDS)
            if undeclared:
                raise TemplateError(f"{where}: uses undeclared field(s) {', '.join(undeclared)}")
            templates[(template_id, language)] = Template(template_id, language, entry["text"], declared)
    english = {tid for tid, lang in templates if lang == DEFAULT_LANGUAGE}
    for language in LANGUAGES:
        missing = sorted(english - {tid for tid, lang in templates if lang == language})
        if missing:
            raise TemplateError(f"{language}.yml lacks {', '.join(missing)}")
    return templates


class Replies:
    """Renders templates with the program's settings and the declared fields."""

    def __init__(
        self, settings_fields: Mapping[str, str], templates: dict[tuple[str, str], Template]
    ) -> None:
        self._settings_fields = dict(settings_fields)
        self._templates = templates

    def template(self, template_id: str, language: str | None) -> Template:
        """The template in the language asked for, or in English when there is none."""
        found = self._templates.get((template_id, language or DEFAULT_LANGUAGE))
        return found or self._templates[(template_id, DEFAULT_LANGUAGE)]

    def render(self, template_id: str, language: str | None, **fields: str) -> str:
        """The text of a template; a field it did not declare is an error, not a silent leak."""
        template = self.template(template_id, language)
        extra = sorted(set(fields) - template.fields)
        if extra:
            raise TemplateError(f"{template_id}: not declared: {', '.join(extra)}")
        return template.text.format(**self._settings_fields, **fields)


def check_settings_against(
    replies: Replies, templates: dict[tuple[str, str], Template], blocked: Callable[[str], str | None]
) -> None:
    """Render every template that has no fields of its own; raise TemplateError if the program's settings
    make one look like personal data (an undashed phone number would block every HELP and STOP reply)."""
    for (template_id, language), template in sorted(templates.items()):
        if not template.fields:
            reason = blocked(replies.render(template_id, language))
            if reason is not None:
                raise TemplateError(
                    f"the {template_id} reply ({language}) would be blocked as {reason}: check PROGRAM_NAME, "
                    "AGENCY_PHONE (write it with dashes, e.g. 1-800-555-0199) and AGENCY_URL"
                )
