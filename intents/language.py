"""Which language a text is in, English or Spanish, and whether that is clear.

The reply goes out in the language of the text when the text makes it clear, otherwise in the
participant's stated preference (issue 4), so the detector says both what it guesses and whether a
careful reader would agree. Texts are a handful of words with typos, so statistics over letters are
useless here; words that are common in one language and rare in the other do the work:

- each marker word counts once per occurrence (after case and accent folding);
- a Spanish-only character (á é í ó ú ñ ü ¿ ¡) counts as two Spanish markers, once per text: the
  accent is a deliberate choice, but many Spanish texts have none;
- words both languages use ("no", "me", "ok", "a", "son", brand names) are in neither list.

The language with more markers wins. The guess is clear when the winner has at least one marker and
at least twice the loser's count ("cuando is my pago" is 2 to 2: unclear). With no winner the answer is
English, the language most participants choose, and it is marked unclear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ENGLISH",
    "SPANISH",
    "LanguageGuess",
    "detect_language",
    "fold",
    "guess_from_words",
    "has_spanish_marks",
    "squeeze",
]

ENGLISH = "en"
SPANISH = "es"

# Characters that only Spanish texts use; `str.isascii` skips the search for most texts.
_SPANISH_MARKS = re.compile(r"[áéíóúñüÁÉÍÓÚÑÜ¿¡]")
_SPANISH_MARK_WEIGHT = 2
_WORD = re.compile(r"[a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1+")

_SPANISH_WORDS = frozenset(
    re.sub(
        r"([a-z])\1+",
        r"\1",
        """
    de del la el los las que q k qu mi mis tu tus su sus es esta estan esto este estos eso por para
    con sin cuando kuando cuado como donde dnd cual cuanto kuanto cuanta quien porque xq pq ya hay una
    un unos unas pero mas muy se lo le les al y o tengo tiene tienen quiero kiero necesito ocupo puedo
    puede pueden pago pagar pague pagos pagado pagaron hola ola holi holaa gracias grax grasias graciass
    buenos buenas buen dias dia tardes noches mes semana hoy manana ayer proximo siguiente ultimo ultima
    vez fecha hora cita corte audiencia juez oficina direccion numero telefono trabajo empleador nuevo
    nueva cambiar cambie cambio actualizar mude casa hijo hija hijos hijas nino ninos nina ninas papa
    dinero manutencion cheque cuenta banco tarjeta efectivo orden copia documentos papeles
    formulario carta historial comprobante hablar alguien persona llamar llamen llame agente ayuda
    favor porfa porfavor dice dicen debo debe vence toca abren cierran abierto abierta cerrada horario
    llego llega recibieron recibi mande mando enviar mandar bien si algo nada todo otro otra
    estampillas cupones desempleo renta luz abogado custodia visita chiste clima llover frio calor
    escuela hambre dormir voy vas va soy eres estoy estas somos hace hacer hago saco consigo quiere
    mandas mandan mandenme ayudan ayudar pueda podria gustaria verdad mucho mucha muchas muchos mil
    perfecto listo amable agradezco bendiga dios tambien entonces aqui ahi alli asi ahora luego pronto
    sobre entre hasta desde cerca lejos mejor peor pasado pasada viene aceptan tienes necesitan algun
    alguna mio opciones saludos holis cordiales representante jaja jajaja callate olvidalo novio
    estupido idiotas personales documento informacion ayudame puedes
    """,
    ).split()
)
_ENGLISH_WORDS = frozenset(
    re.sub(
        r"([a-z])\1+",
        r"\1",
        """
    the i im ive my you u your ur yall is are r am was were be been do does did dont didnt doesnt when
    wen whens what whats wat where wheres how who why which can could would will should shall to of
    and or it its this that these those have has had havent hasnt he she they them his her their we
    our us with without for from at on in about by pay paid payment payments pymt pmt due next last
    court hearing appointment appt office hours open close closed address phone number job new change
    moved update copy order papers documents form forms talk speak someone somebody person agent
    call help hi hello hey thanks thank thx ty please pls plz need want get got send sent received
    money check card cash online today tomorrow yesterday week month day time date much many owe
    yet already still anything nothing something ask answer work works there here get gonna wanna
    gotta just also some any all not out up down if then than so very really good morning
    afternoon evening night great cool okay appreciate lot representative operator greetings hiya howdy
    tell joke options commands useless away idiots free near happy birthday nevermind lol haha hahaha
    """,
    ).split()
)


@dataclass(frozen=True)
class LanguageGuess:
    """The language a text is most likely in ("en" or "es") and whether the text makes it clear."""

    language: str
    clear: bool


def guess_from_words(words: Iterable[str], spanish_marks: bool) -> LanguageGuess:
    """Guess the language from case- and accent-folded words and whether Spanish characters were seen.

    The classifier calls this with the words it has already folded, so a text is folded only once.
    """
    english = 0
    spanish = _SPANISH_MARK_WEIGHT if spanish_marks else 0
    for word in words:
        if word in _SPANISH_WORDS:
            spanish += 1
        elif word in _ENGLISH_WORDS:
            english += 1
    if spanish > english:
        return LanguageGuess(SPANISH, spanish >= 2 * english)
    if english > spanish:
        return LanguageGuess(ENGLISH, english >= 2 * spanish)
    return LanguageGuess(ENGLISH, False)


def has_spanish_marks(text: str) -> bool:
    """Tell whether the raw text holds a character only Spanish uses (accented vowel, ñ, ¿, ¡)."""
    return not text.isascii() and _SPANISH_MARKS.search(text) is not None


def fold(text: str) -> str:
    """Lower-case a text and strip its accents ("Cuándo PAGÓ" -> "cuando pago"); "ñ" becomes "n".

    The detector and the classifier both read folded text, so a text typed with or without accents
    looks the same to them.
    """
    if text.isascii():
        # Most texts are plain ASCII: skip the Unicode work, which costs far more than the rest.
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def squeeze(folded: str) -> str:
    """Squeeze each run of one repeated letter to one letter ("holaaa" -> "hola", "llamen" -> "lamen").

    Doubled letters are the commonest typo and the commonest emphasis; the marker words below and the
    classifier's vocabulary are squeezed the same way, so they cost nothing.
    """
    return _REPEATS.sub(_first_letter, folded)


def _first_letter(match: re.Match[str]) -> str:
    # A function replacement is about twice as fast as the r"\1" template in CPython's re.
    return match.group(1)


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of a raw text."""
    return guess_from_words(_WORD.findall(squeeze(fold(text))), has_spanish_marks(text))
