"""Plain-language revocation of consent to receive texts, in English and Spanish.

The FCC requires honouring revocation "by any reasonable means", so "pls stop txting me" and
"no me manden mas mensajes" must count even though they are not keywords, while questions that
merely contain a keyword ("when does my support order end") must not.

How a message is read, in order:
1. A bare keyword (`consent.keywords`) decides at once: opt-out words revoke.
2. The text is folded (case, accents), split into clauses at . ! ? , ; and each clause is
   tokenised. Runs of a repeated letter are squeezed ("stoppp" -> "stop", "messages" ->
   "mesages") and texting slang is mapped to one token ("txts", "msgs", "mensajes" -> "txt").
3. Per clause: a request to keep texting ("keep texting me", "no dejen de mandarme") shields the
   clause; otherwise a revocation pattern with an explicit texting object, a list removal,
   "unsubscribe", "wrong number", or a clause that is only an opt-out keyword ("stop please",
   "no mas, ya pague") revokes, unless the clause is a question ("how do i stop these texts"),
   which is UNCLEAR so the caller can offer "Reply STOP" once.
4. No pattern: support-order vocabulary (order, case, payment, job, pago, caso, ...) means the
   stop-like word is about the case: NOT_REVOKE. A leftover stop-like word with no object
   ("stop this", "quiero cancelar", "basta") or an annoyed message ("leave me alone") is UNCLEAR.

The rules are tuned on the dev split of revocation_examples.tsv only.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from consent.keywords import KEYWORDS, KeywordFamily, match_keyword, normalise

__all__ = ["Revocation", "Verdict", "classify_revocation"]


class Verdict(str, enum.Enum):
    """Whether a message revokes consent to receive texts."""

    REVOKE = "revoke"
    NOT_REVOKE = "not_revoke"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Revocation:
    """The verdict on one message, with the language seen and a reason free of user text."""

    verdict: Verdict
    language: str | None
    reason: str


# A run of one repeated letter ("stoppp", "messages", "llamen") becomes one letter, in the text and
# in every pattern alike, so doubled-letter typos cost nothing. The look-behind keeps regex escapes
# such as \bb intact when a pattern is squeezed.
_REPEATS = re.compile(r"(?<!\\)([a-z])\1+")


def _sq(text: str) -> str:
    return _REPEATS.sub(r"\1", text)


def _alt(*words: str) -> str:
    return "(?:" + "|".join(sorted({_sq(w) for w in words}, key=len, reverse=True)) + ")"


# --- token normalisation ------------------------------------------------------------------------

_SYNONYMS: dict[str, str] = {}
for _canon, _variants in {
    "please": "pls plz plez plse pleas please pleaz plis porfa porfavor xfa",
    "you": "u yu yall",
    "your": "ur youre yur",
    "dont": "dont dnt don",
    "anymore": "anymore anymor nymore",
    "txt": "text texts txt txts tx txs texting txting txtng txtin txtn textn textin texted txted"
    " texto textos textitos msg msgs message messages messaging msging msgng msgin sms"
    " mensaje mensajes mensajito mensajitos msj msjs mensage mensages",
    "alert": "alert alerts notification notifications notifs reminder reminders update updates"
    " notificacion notificaciones alerta alertas recordatorio recordatorios aviso avisos",
}.items():
    for _variant in _variants.split():
        _SYNONYMS[_sq(_variant)] = _canon

_CLAUSE_SPLIT = re.compile(r"([.!?,;:¿¡\n]+)")
_TOKEN = re.compile(r"[a-z0-9#]+")


@dataclass(frozen=True)
class _Clause:
    text: str
    question_mark: bool


def _clauses(folded: str) -> list[_Clause]:
    # Apostrophes vanish so "don't" and "dont" are one token.
    parts = _CLAUSE_SPLIT.split(folded.replace("'", "").replace("\u2019", ""))
    clauses = []
    for i in range(0, len(parts), 2):
        before = parts[i - 1] if i else ""
        after = parts[i + 1] if i + 1 < len(parts) else ""
        tokens = [_SYNONYMS.get(t, t) for t in (_sq(t) for t in _TOKEN.findall(parts[i]))]
        if tokens:
            clauses.append(_Clause(" ".join(tokens), "?" in after or "¿" in before))
    return clauses


# --- vocabulary ---------------------------------------------------------------------------------

_OBJ = r"(?:txt|alert)"
_STOP = _alt(
    "stop", "stp", "quit", "cease", "halt", "end", "cancel", "discontinue", "pause", "parar",
    "paren", "pare", "detener", "detengan", "detenga", "cancelar", "cancelen", "cancele",
    "cancela", "terminar", "terminen", "suspender", "suspendan", "basta de", "basta con",
    "enough with", "enough of", "no more", "not any more", "no mas", "ningun", "ninguno",
)
_DET = _alt(
    "the", "these", "this", "those", "that", "your", "all", "any", "all these", "all the",
    "all your", "any more", "more", "los", "las", "estos", "estas", "esos", "sus", "tus", "el",
    "la", "todos los", "mas", "sus", "de", "of", "stupid", "annoying", "damn", "dam", "automated",
    "fucking", "freaking",
)
_PRON = _alt(
    "me", "us", "my phone", "my cel", "my cell", "my number", "this number", "this phone",
    "this #", "my #",
)
_SEND_EN = _alt(
    "sending", "contacting", "calling", "emailing", "bothering", "harassing", "harrassing",
    "spamming", "bugging",
)
_RECEIVE_EN = _alt("sending", "getting", "receiving", "giving")
_SEND_ES = _alt(
    "manden", "mande", "mandes", "envien", "envie", "envies", "escriban", "escriba", "escribas",
    "contacten", "contacte", "texteen", "textee", "llamen", "llame", "molesten", "moleste",
)
_SEND_ES_INF = _alt(
    "enviar", "mandar", "escribir", "textear", "contactar", "molestar", "llamar", "enviarme",
    "mandarme", "escribirme", "textearme", "contactarme", "molestarme", "llamarme", "recibir",
)
# Things one stops sending that are not texts: paper mail and money.
_PAPER = _alt(
    "letters", "letter", "mail", "papers", "paper", "bills", "bill", "statements", "statement",
    "checks", "check", "paychecks", "payments", "payment", "money", "support", "cards", "card",
    "cartas", "carta", "correo", "papeles", "pagos", "pago", "dinero", "cheque", "cheques",
    "facturas", "factura", "documentos",
)
_END = r"(?=$| please| por favor| now| ahora| already| ya| thanks| thank| gracias| thx| ty| asap)"
_LIST = _alt("list", "lists", "txt", "alert", "system", "database", "program", "service")
_LIST_ES = _alt("lista", "listas", "txt", "alert", "sistema", "servicio", "programa")
_DET_ES = _alt("la", "las", "los", "su", "sus", "esta", "estas", "este", "estos", "tu", "el")
_PHONE_ES = _alt("mi numero", "este numero", "mi telefono", "mi cel", "mi celular", "mi #")
_UNSUB = _alt(
    "unsubscribe", "unsubcribe", "unsuscribe", "unsub", "desuscribir", "desuscribirme",
    "desuscribanme", "desinscribir", "desinscribirme", "desinscribanme", "opt out", "optout",
    "opt me out", "opt us out", "cancelar mi suscripcion", "cancelar la suscripcion",
)
_OPT_OUT_WORDS = _alt(
    "no more", *(normalise(k.word) for k in KEYWORDS if k.family is KeywordFamily.OPT_OUT),
)
_FILLER = _alt(
    "please", "now", "already", "just", "ok", "okay", "k", "thanks", "thank", "you", "ty", "thx",
    "asap", "immediately", "right", "away", "omg", "god", "dude", "seriously", "again",
    "por", "favor", "gracias", "ya", "ahora", "mismo", "ahorita", "oye",
)
# A keyword followed straight by a subject ("stop i already paid") is a sentence of its own.
_SUBJECT = _alt("i", "im", "ive", "id", "ill", "we", "yo", "ya", "you")


def _named(**patterns: str) -> re.Pattern[str]:
    return re.compile(_sq("|".join(f"(?P<{name}>{body})" for name, body in patterns.items())))


_REVOKE = _named(
    keyword_clause=(
        rf"^(?:{_FILLER} )*{_OPT_OUT_WORDS}(?: (?:{_FILLER}|{_OPT_OUT_WORDS}))*"
        rf"(?:$|(?= {_SUBJECT}\b))"
    ),
    stop_texting=rf"\b{_STOP} (?:please )?(?:{_RECEIVE_EN} )?(?:{_PRON} )?(?:{_DET} ){{0,2}}{_OBJ}\b",
    stop_sending=(
        rf"\b(?:stop|quit|cease) (?:please )?{_SEND_EN}\b(?: {_PRON}\b)?+"
        rf"(?! (?:{_DET} )?{_PAPER}\b)"
    ),
    dont_text=(
        r"\b(?:dont|do not|never)(?: ever)?(?: again)? (?:txt|contact|call)"
        r" (?:me|us|this|my|again|anymore|here)\b"
        rf"|\b(?:dont|do not|never)(?: ever)? send (?:me |us )?(?:{_DET} ){{0,2}}{_OBJ}\b"
    ),
    dont_want=(
        rf"\b(?:dont|do not|no longer|never)(?: really)? (?:want|wish|need|like)"
        rf"(?: to (?:get|receive|be sent|have))?(?: {_DET}){{0,2}} {_OBJ}\b"
        r"|\b(?:dont|do not) want to be (?:txt|contacted)\b"
    ),
    no_quiero=(
        rf"\bno quiero (?:recibir |que me {_SEND_ES} )?(?:{_DET} ){{0,2}}{_OBJ}\b"
        r"|\bno quiero recibir (?:mas )?nada\b"
        rf"|\bno quiero que me {_SEND_ES}\b(?! (?:{_DET_ES} )?{_PAPER}\b)"
    ),
    no_me_manden=(
        rf"\bno (?:me|nos) (?:vuelvan a |vuelva a )?{_SEND_ES}\b(?! (?:{_DET_ES} )?{_PAPER}\b)"
    ),
    dejen_de=(
        rf"\b(?:dejen|deje|dejar|dejes|deja|dejan|paren|pare|parar) de {_SEND_ES_INF}\b"
        rf"(?! (?:{_DET_ES} )?{_PAPER}\b)"
    ),
    list_removal=(
        rf"\b(?:take|remove|delete|drop|erase|get|unenroll|unregister) (?:me|us|my (?:cel |cell |"
        rf"phone |mobile )?(?:number|#|phone|cel|cell)|this (?:number|phone|#))"
        rf"(?: (?:of|off|from|out of)(?: {_DET})?(?: (?:txt|alert|mailing|contact|sms))?"
        rf"(?: {_LIST})?)?+{_END}"
    ),
    lista=(
        rf"\b(?:quitenme|quiteme|quitame|quitarme|sacame|saquenme|saqueme|sacarme|borrenme|"
        rf"borreme|borrarme|borrame|eliminenme|elimineme|eliminarme|eliminame|remuevanme)"
        rf"(?: del?(?: {_DET_ES})? {_LIST_ES})?+{_END}"
        rf"|\b(?:salir|salirme|me salgo) del?(?: {_DET_ES})? {_LIST_ES}\b"
        rf"|\b(?:quiten|quite|quitar|borren|borre|borrar|eliminen|elimine|eliminar|saquen|sacar"
        rf"|den de baja|dar de baja) {_PHONE_ES}\b"
    ),
    baja=(
        rf"\b(?:darme|denme|dame|deme|me doy|darse) de baja"
        rf"(?:{_END}| del?(?: {_DET_ES})? (?:{_OBJ}|{_LIST_ES})\b)"
        rf"|\bdar de baja (?:{_DET_ES} )?{_OBJ}\b"
    ),
    unsubscribe=(
        rf"\b{_UNSUB}\b(?: (?:me|us))?+(?! (?:of|from) (?!(?:the |these |this |your |all |those )?"
        rf"(?:txt|alert|list|this|these|them|it|everything|al|you|your|here)\b))"
    ),
    wrong_number=(
        r"\bwrong (?:number|#|person|phone)\b|\bnumero equivocado\b"
        r"|\bequivoca(?:do|ron|ste) de (?:numero|persona)\b"
    ),
    said_stop=rf"\b(?:i said|i told you|told you|i asked you|asked you)(?: to)? {_OPT_OUT_WORDS}\b",
)

# "keep texting me" / "no dejen de mandarme" are the opposite of a revocation.
_WANTS_TEXTS = re.compile(_sq(
    rf"^(?:(?:yes|si|ok|okay|please|so) )*(?:keep|continue) (?:{_OBJ}|sending)\b"
    r"|\b(?:dont|do not|never) stop\b"
    r"|^(?:please )?txt me\b"
    r"|\b(?:can|could|would|will|why dont) (?:you )?(?:please )?(?:txt|send) me\b"
    rf"|\bno (?:dejen|deje|paren|pare) de {_SEND_ES_INF}\b"
    r"|\b(?:sigan|siga) (?:enviando|mandando)"
    r"|\b(?:me )?(?:pueden|puede|podrian|podria) (?:mandar|enviar)(?:me)?\b"
))
_REQUEST = re.compile(
    _sq(r"^(?:please )?(?:can|could|would|will|cn) (?:you|u)\b|^how about\b"
        r"|^(?:pueden|puede|podrian|podria)\b")
)
_QUESTION_WORD = re.compile(
    _sq(r"^(?:when|how|can|could|what|why|where|is|does|did|do(?! not)|will|would|should|who"
        r"|which|are|am|cuando|como|que|puedo|puede|pueden|por que|porque|donde|cual|cuanto"
        r"|cuanta|hay)\b")
)
_SUPPORT = re.compile(
    r"\b"
    + _alt(
        "order", "orders", "ordr", "case", "cases", "autopay", "auto pay", r"pay\w*", "paid",
        "payed", "support", "suport", "kid", "kids", "child", "son", "daughter", "turns", "18",
        "job", "jobs", "work", "employer", r"garnish\w*", r"withhold\w*", r"wage\w*", "check",
        "checks", "paycheck", "court", "hearing", "appointment", r"licen\w*", "balance",
        "arrears", "owe", "owed", "debt", "judge", r"modif\w*", "custody", "account", "bank",
        "card", "deposit", "plan", "letter", "letters", "mail", "address", "amount", "due",
        "pago", "pagos", "pagar", r"pagu\w*", "pagando", "orden", "caso", r"manutencion\w*",
        "trabajo", "embargo", r"retencion\w*", "sueldo", "cheque", "corte", "audiencia", "cita",
        "licencia", "deuda", "debo", "cuota", "hijo", "hija", "cumple", "tribunal", "juez",
        "cuenta", "banco", "carta", "cartas", "direccion", r"descuento\w*", "tarjeta",
    )
    + r"\b"
)
_ANNOYED = re.compile(
    _sq(r"\bspam\w*|\bleave me alone\b|\bdejenme en paz\b|\bno quiero (?:nada|esto)\b"
        r"|\b(?:dont|do not) want (?:this|that|it)$|\b(?:keep|still|always) (?:txt|sending)\b")
)
_STOP_WORD = re.compile(
    _sq(r"\b(?:stop|quit|cancel|cease|halt|enough|unsubscribe|parar|paren|pare|cancelar|cancela"
        r"|basta|detener|dejo de|dejar de|salgo|salir|salirme|baja|opt out)\b|^end\b")
)

_ES_HINTS = frozenset(
    "de la el los las que quiero mi mis mas por favor ya me manden envien mensajes mensaje"
    " cuando como gracias pago caso orden no".split()
)
_EN_HINTS = frozenset(
    "the i my you u to stop please pls dont want is do how when what text texts texting me"
    " this these".split()
)


def _language(folded: str) -> str | None:
    words = _TOKEN.findall(folded)
    es = sum(w in _ES_HINTS for w in words)
    en = sum(w in _EN_HINTS for w in words)
    if es == en:
        return None
    return "es" if es > en else "en"


def classify_revocation(text: str) -> Revocation:
    """Classify a message as revoking consent to texts, not revoking it, or unclear."""
    keyword = match_keyword(text)
    if keyword is not None:
        verdict = Verdict.REVOKE if keyword.family is KeywordFamily.OPT_OUT else Verdict.NOT_REVOKE
        return Revocation(verdict, keyword.language, f"keyword:{keyword.family.value}")

    folded = normalise(text)
    language = _language(folded)
    clauses = _clauses(folded)
    if not clauses:
        return Revocation(Verdict.NOT_REVOKE, None, "empty")

    questioned: str | None = None
    wants_texts = False
    for clause in clauses:
        if _WANTS_TEXTS.search(clause.text):
            wants_texts = True
            continue
        found = _REVOKE.search(clause.text)
        if found is None:
            continue
        is_request = _REQUEST.search(clause.text) is not None
        is_question = clause.question_mark or _QUESTION_WORD.search(clause.text) is not None
        if is_question and not is_request:
            questioned = questioned or found.lastgroup
        else:
            return Revocation(Verdict.REVOKE, language, f"pattern:{found.lastgroup}")

    if questioned is not None:
        return Revocation(Verdict.UNCLEAR, language, f"question:{questioned}")
    if wants_texts:
        return Revocation(Verdict.NOT_REVOKE, language, "wants_texts")
    joined = " . ".join(c.text for c in clauses)
    if _SUPPORT.search(joined):
        return Revocation(Verdict.NOT_REVOKE, language, "support_topic")
    if _ANNOYED.search(joined):
        return Revocation(Verdict.UNCLEAR, language, "annoyed")
    if any(_STOP_WORD.search(c.text) for c in clauses):
        return Revocation(Verdict.UNCLEAR, language, "stop_word_without_object")
    return Revocation(Verdict.NOT_REVOKE, language, "no_cue")
