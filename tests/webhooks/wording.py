"""What each reply must say (CTIA wording, COMPLIANCE.md), in English and Spanish, and checks for it.

The phrases come from bot/templates/{en,es}.yml with the default settings; the CTIA items are the
ones auditors look for: program name, contact, rates, frequency, HELP and STOP instructions.
"""

from __future__ import annotations

from tests.webhooks.conftest import AGENCY_PHONE, AGENCY_URL, PROGRAM

REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "opt_out_confirm": {
        "en": (
            f"You are unsubscribed from {PROGRAM}",
            "No more messages will be sent",
            "Reply HELP for help",
            AGENCY_PHONE,
        ),
        "es": (
            f"Usted se ha dado de baja de {PROGRAM}",
            "No recibira mas mensajes",
            "Responda AYUDA para ayuda",
            AGENCY_PHONE,
        ),
    },
    "opt_in_confirm": {
        "en": (
            PROGRAM,
            "Msg&data rates may apply",
            "Msg frequency varies",
            "Reply HELP for help",
            "STOP to cancel",
        ),
        "es": (
            PROGRAM,
            "Pueden aplicar tarifas de mensajes y datos",
            "Frecuencia varia",
            "AYUDA para ayuda",
            "STOP para cancelar",
        ),
    },
    "help": {
        "en": (
            PROGRAM,
            AGENCY_PHONE,
            AGENCY_URL,
            "Msg&data rates may apply",
            "Msg frequency varies",
            "Reply STOP to cancel",
        ),
        "es": (
            PROGRAM,
            AGENCY_PHONE,
            AGENCY_URL,
            "Pueden aplicar tarifas de mensajes y datos",
            "Frecuencia varia",
            "Responda STOP para cancelar",
        ),
    },
    "enroll": {
        "en": (PROGRAM, "reply START", "Msg&data rates may apply", "Reply HELP for help", "STOP to cancel"),
        "es": (PROGRAM, "responda START", "Pueden aplicar tarifas", "AYUDA para ayuda", "STOP para cancelar"),
    },
    "revoke_clarify": {
        "en": (f"Reply STOP to stop all texts from {PROGRAM}",),
        "es": (f"Responda STOP para dejar de recibir todos los mensajes de {PROGRAM}",),
    },
    "verify_ask": {
        "en": ("reply with the last 4 digits of your case number",),
        "es": ("responda con los ultimos 4 digitos de su numero de caso",),
    },
    "verify_retry": {
        "en": ("Those digits do not match our records", AGENCY_PHONE),
        "es": ("Esos digitos no coinciden con nuestros registros", AGENCY_PHONE),
    },
    "verify_locked": {
        "en": ("We could not confirm this number", AGENCY_PHONE),
        "es": ("No pudimos confirmar este numero", AGENCY_PHONE),
    },
    "verify_unknown": {
        "en": ("We could not find this number in our records", AGENCY_PHONE),
        "es": ("No encontramos este numero en nuestros registros", AGENCY_PHONE),
    },
    "verify_ok": {
        "en": ("your number is confirmed",),
        "es": ("su numero esta confirmado",),
    },
    "answer_pending": {
        "en": ("We got your message", AGENCY_URL, AGENCY_PHONE, "STOP to cancel"),
        "es": ("Recibimos su mensaje", AGENCY_URL, AGENCY_PHONE, "STOP para cancelar"),
    },
}
# Words that only one language's replies use: a reply in the other language must not carry them.
MARKERS = {"en": ("Reply", "Msg&data", "You are"), "es": ("Responda", "Pueden aplicar", "Usted", "llame")}


def assert_says(text: str | None, template: str, language: str) -> None:
    """Assert a reply is the `template` reply in `language`, with every required phrase."""
    assert text is not None, f"expected the {template} reply ({language}), got an empty <Response/>"
    missing = [phrase for phrase in REQUIRED[template][language] if phrase not in text]
    assert not missing, f"{template}/{language} reply lacks {missing}: {text!r}"
    other = "es" if language == "en" else "en"
    foreign = [marker for marker in MARKERS[other] if marker in text]
    assert not foreign, f"{template}/{language} reply has {other} wording {foreign}: {text!r}"
