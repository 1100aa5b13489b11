"""Plain-language requests about the texts themselves: help, and wanting texts (again).

CTIA wants HELP answered in any state, and a plain "help me" or "necesito ayuda" is a request for help
as much as the keyword is. A parent who opted out and writes "I want to get texts again" must not meet
silence, and a parent asked "do you want to keep getting texts?" may answer in words ("yes keep them").
`classify_ask` tells these apart from everything else; the keywords themselves (HELP, START, ...) are
`consent.keywords`' job and callers look there first.

A request is recognised from what the message is about (help, the texts) and what it asks (help me,
send/keep/resume them), with negation and other topics ruling it out: "help me pay" and "I need help
with my payment" are questions for the assistant, "I don't want texts" is the opposite of a request.
"""

from __future__ import annotations

import enum
import re

from consent.keywords import normalise

__all__ = ["Ask", "classify_ask"]


class Ask(enum.StrEnum):
    """What a plain-language message asks of the consent rules."""

    HELP = "help"  # a request for help with the service, answered with the HELP reply
    WANTS_TEXTS = "wants_texts"  # wants texts to continue, or to start again


_WORD = re.compile(r"[a-z0-9']+")
_TEXTS = (
    r"(?:texts?|txts?|msgs?|messages?|messaging|notifications?|notifs?|alerts?|reminders?|updates?"
    r"|sms|mensajes?|mensajitos?|msjs?|textos?|notificaciones|notificacion|alertas?|recordatorios?"
    r"|avisos?)"
)
_NEGATION = re.compile(
    r"\b(?:dont|don't|do not|no longer|not|never|stop|quit|cancel|no quiero|no me|ya no|nunca|dejen de"
    r"|no mas|no more)\b"
)

_WANTS_TEXTS = re.compile(
    r"\b(?:(?:want|wanna|would like|like|need|wish) (?:to )?(?:get|receive|start getting|have|keep getting"
    r"|be getting|resume|continue getting|sign up for|subscribe to)? ?(?:the |your |my |these |those )?"
    + _TEXTS
    + r"|(?:start|resume|restart|continue|keep) (?:sending|texting|messaging)(?: me)?"
    r"|(?:send|text) me (?:the |your )?" + _TEXTS + r"? ?(?:again|back)"
    r"|(?:turn|switch) (?:the |my )?" + _TEXTS + r" (?:back )?on"
    r"|(?:sign|opt|put|add) me (?:back )?(?:up|in|on)"
    r"|re ?(?:subscribe|enroll|activate|start)"
    r"|(?:subscribe|enroll|opt in)(?: me)?(?: again| back)?"
    r"|keep (?:them|it|the texts?|the messages?|texting|sending)(?: coming)?"
    r"|(?:quiero|queremos|deseo|me gustaria|necesito) (?:volver a |seguir |seguir recibiendo )?"
    r"(?:recibir |tener )?(?:los |las |sus |mis )?"
    + _TEXTS
    + r"|(?:quiero|deseo) (?:volver a )?(?:suscribirme|inscribirme|registrarme|activar)"
    r"|(?:mand|envi)(?:en|e|ar)me (?:los |las |sus )?" + _TEXTS + r"? ?(?:otra vez|de nuevo|nuevamente)"
    r"|(?:vuelvan|vuelva) a (?:mandar|enviar|mandarme|enviarme|textear)"
    r"|(?:sigan|siga|continuen|continue) (?:mandando|enviando|mandandome|enviandome|textea)"
    r"|(?:reactivar|reactiven|reactive|activen|activar|reanudar|reanuden) (?:los |las |mis )?"
    r"(?:" + _TEXTS + r"|suscripcion)"
    r"|(?:volver a|vuelvo a|otra vez|de nuevo) (?:recibir|suscribirme)"
    r")\b"
)
_YES = (
    r"(?:yes|yeah|yea|yep|yup|ya|sure|ok|okay|si|claro|por supuesto|of course|please|por favor|i do|quiero"
    r")"
)
_AFFIRMATIVE = re.compile(
    rf"^{_YES}(?: (?:{_YES}|keep|keep them|keep texting|keep sending|sigan|continue|thanks|gracias))*$"
)

_HELP = re.compile(
    r"^(?:(?:hi|hello|hey|hola|buenas|buenos dias|buenas tardes|please|pls|plz|por favor|porfa|oye|ok)"
    r" )*(?:(?:i|we) (?:need|want|would like|could use)(?: some| a little)? help"
    r"|can (?:you|u|someone|anyone|somebody) help(?: me| us)?"
    r"|(?:please )?help(?: me| us)?(?: please| pls| plz)?"
    r"|need help|help needed|i need assistance|assistance please"
    r"|what is this|whats this|what is this (?:about|for)|what are these(?: texts| messages)?"
    r"|how does this work|how do(?:es)? (?:this|these texts) work|what can i (?:do|ask|text)"
    r"|info please|more info|information please|i need (?:more )?info(?:rmation)?"
    r"|(?:yo )?(?:necesito|ocupo|quiero|requiero)(?: un poco de| una| de)? (?:ayuda|informacion|info)"
    r"|(?:me )?(?:puede|pueden|podria|podrian) ayudar(?:me)?"
    r"|ayudame|ayudenme|ayudeme|ayuda por favor|ayuda me|auxilio|socorro"
    r"|que es esto|de que se trata(?: esto)?|que son estos mensajes|como funciona(?: esto)?"
    r"|que puedo (?:preguntar|hacer|mandar))"
    r"(?: (?:please|pls|plz|por favor|porfa|thanks|thank you|gracias))*$"
)


def _plain(text: str) -> str:
    folded = normalise(text).replace("\u2019", "'")
    return " ".join(_WORD.findall(folded.replace("'", "")))


def classify_ask(text: str, *, after_question: bool = False) -> Ask | None:
    """Tell whether a message asks for help or for texts (to go on or start again); None otherwise.

    after_question: the last thing we sent asked whether they want to keep getting texts, so a bare
    affirmative ("yes", "sure", "si claro") answers it.
    """
    plain = _plain(text)
    if not plain:
        return None
    if _HELP.match(plain):
        return Ask.HELP
    if after_question and _AFFIRMATIVE.match(plain):
        return Ask.WANTS_TEXTS
    if _WANTS_TEXTS.search(plain) and not _NEGATION.search(plain):
        return Ask.WANTS_TEXTS
    return None
