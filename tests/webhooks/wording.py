"""What each reply must say (CTIA wording, COMPLIANCE.md), in English and Spanish, and checks for it.

The phrases come from bot/templates/{en,es}.yml with the default settings; the CTIA items are the
ones auditors look for: program name, contact, rates, frequency, HELP and STOP instructions. The
answers' phrases leave out their fields (dates, offices); `written_day` writes a date as a reply does,
from its own tables, so a test can look for a demo date without trusting intents/wording.py.
"""

from __future__ import annotations

from datetime import date

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
    # The answering step's templates (issue 4).
    "next_due_date": {
        "en": ("Your next child support payment is due ", "Reply HELP for help"),
        "es": ("Su proximo pago de manutencion vence el ", "Responda AYUDA para ayuda"),
    },
    "next_due_date_cases": {
        "en": ("Next payments due: case ending ", "Reply HELP for help"),
        "es": ("Proximos pagos: caso que termina en ", "Responda AYUDA para ayuda"),
    },
    "no_due_date": {
        "en": ("We have no upcoming payment due on file for you", AGENCY_PHONE),
        "es": ("No tenemos un pago pendiente registrado para usted", AGENCY_PHONE),
    },
    "last_payment_paid_by_me": {
        "en": ("We received your last payment on ", "Reply HELP for help"),
        "es": ("Recibimos su ultimo pago el ", "Responda AYUDA para ayuda"),
    },
    "last_payment_paid_to_me": {
        "en": ("The last payment for you was posted on ", "Reply HELP for help"),
        "es": ("El ultimo pago para usted se registro el ", "Responda AYUDA para ayuda"),
    },
    "last_payment_cases": {
        "en": ("Last payments posted: case ending ", "Reply HELP for help"),
        "es": ("Ultimos pagos registrados: caso que termina en ", "Responda AYUDA para ayuda"),
    },
    "payment_see_portal": {
        "en": ("For your recent payments, please call", AGENCY_PHONE, AGENCY_URL),
        "es": ("Para sus pagos recientes, llame al", AGENCY_PHONE, AGENCY_URL),
    },
    "next_appointment": {
        "en": ("Your next ", " is on ", "Reply HELP for help"),
        "es": ("Su proxima ", " es el ", " a las ", "Responda AYUDA para ayuda"),
    },
    "no_appointment": {
        "en": ("We have no hearing or appointment scheduled for you", AGENCY_PHONE),
        "es": ("No tiene audiencias ni citas programadas", AGENCY_PHONE),
    },
    "choose_case": {
        "en": ("Reply with the last 4 digits of the case you mean",),
        "es": ("Responda con los ultimos 4 digitos del caso",),
    },
    "payment_options": {
        "en": ("Pay online at", AGENCY_URL, AGENCY_PHONE, "by mail"),
        "es": ("Pague en linea en", AGENCY_URL, AGENCY_PHONE, "por correo"),
    },
    "office_info": {
        "en": (AGENCY_PHONE, "Monday to Friday 8am-5pm", AGENCY_URL, "office locations and hours"),
        "es": (AGENCY_PHONE, "de lunes a viernes de 8am a 5pm", AGENCY_URL, "oficinas y horarios"),
    },
    "agent_request": {
        "en": ("We will ask a caseworker to contact you", AGENCY_PHONE),
        "es": ("Pediremos que un trabajador de casos le contacte", AGENCY_PHONE),
    },
    "update_info": {
        "en": ("To update your address, phone or job", AGENCY_URL, "Please do not text personal details"),
        "es": ("Para cambiar su direccion, telefono o empleo", AGENCY_URL, "No envie datos personales"),
    },
    "documents": {
        "en": ("Send documents through", AGENCY_URL, "Please do not text documents"),
        "es": ("Envie sus documentos por", AGENCY_URL, "No envie documentos ni datos personales"),
    },
    "greet": {
        "en": ("Hi! You can ask: when is my next payment due?",),
        "es": ("¡Hola! Puede preguntar: ¿cuando vence mi proximo pago?",),
    },
    "thanks": {
        "en": ("You're welcome", "STOP to cancel"),
        "es": ("De nada", "STOP para cancelar"),
    },
    "help_menu": {
        "en": ("You can ask: when is my next payment due, did you get my payment", "STOP to cancel"),
        "es": ("Puede preguntar: cuando vence mi pago, si recibieron mi pago", "STOP para cancelar"),
    },
    "out_of_scope": {
        "en": ("Sorry, by text we can only answer questions about payments and appointments", AGENCY_PHONE),
        "es": ("Lo sentimos, por texto solo respondemos sobre pagos y citas", AGENCY_PHONE),
    },
    "safe_fallback": {
        "en": ("We can't answer that by text", AGENCY_PHONE, AGENCY_URL),
        "es": ("No podemos responder eso por texto", AGENCY_PHONE, AGENCY_URL),
    },
    # A number past INBOUND_PER_MINUTE (issue 7): told once, with the way out and to help.
    "throttled": {
        "en": (PROGRAM, "You sent many texts in a short time", "Please wait a minute", "Reply HELP", "STOP"),
        "es": (PROGRAM, "Envio muchos mensajes en poco tiempo", "Espere un minuto", "Responda AYUDA", "STOP"),
    },
}
# What the answering step may reply: a verified participant's question gets one of these, never a
# consent reply.
ANSWERS = (
    "next_due_date",
    "next_due_date_cases",
    "no_due_date",
    "last_payment_paid_by_me",
    "last_payment_paid_to_me",
    "last_payment_cases",
    "payment_see_portal",
    "next_appointment",
    "no_appointment",
    "choose_case",
    "payment_options",
    "office_info",
    "agent_request",
    "update_info",
    "documents",
    "greet",
    "thanks",
    "help_menu",
    "out_of_scope",
    "safe_fallback",
)
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


def saying(text: str, language: str) -> list[str]:
    """The templates whose phrases in `language` are all in the text (and no other language's words)."""
    other = "es" if language == "en" else "en"
    if any(marker in text for marker in MARKERS[other]):
        return []
    return [
        template
        for template, phrases in REQUIRED.items()
        if all(phrase in text for phrase in phrases[language])
    ]


def assert_answered(text: str | None, language: str | None = None) -> None:
    """Assert a reply is one of the answering step's templates (in `language`, or in either)."""
    assert text is not None, "expected an answer, got an empty <Response/>"
    found = [
        template for lang in ([language] if language else ["en", "es"]) for template in saying(text, lang)
    ]
    assert found and set(found) <= set(ANSWERS), f"not an answer ({found}): {text!r}"


# How the replies write a date: "Fri Dec 12" in English, "vie 12 dic" in Spanish (no accents: GSM-7).
_WEEKDAYS = {"en": "Mon Tue Wed Thu Fri Sat Sun".split(), "es": "lun mar mie jue vie sab dom".split()}
_MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    "es": "ene feb mar abr may jun jul ago sep oct nov dic".split(),
}


def written_day(value: date, language: str) -> str:
    """A date as the replies write it in `language`."""
    weekday, month = _WEEKDAYS[language][value.weekday()], _MONTHS[language][value.month - 1]
    return f"{weekday} {month} {value.day}" if language == "en" else f"{weekday} {value.day} {month}"
