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

Each pattern runs only when its clause holds one of its trigger words, which keeps a call around
10 µs (bench/revocation_quality.py). The rules are tuned on the dev split of
revocation_examples.tsv only; the heldout split measures them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from consent.keywords import KEYWORDS, KeywordFamily, match_normalised, normalise
from consent.spelling import deleet, misspelled_as

__all__ = ["Revocation", "Verdict", "classify_revocation"]


class Verdict(enum.StrEnum):
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
    # A function replacement is about twice as fast as the r"\1" template in CPython's re.
    return _REPEATS.sub(_first_letter, text)


def _first_letter(match: re.Match[str]) -> str:
    return match.group(1)


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


def _words(text: str) -> frozenset[str]:
    return frozenset(_sq(text).split())


# Words common in one language and rare in the other, as squeezed tokens ("no" and "me" are in
# both, so neither counts). Each word is counted once, however often it occurs.
_ES_HINTS = _words(
    "de del la el los las que quiero mi mis mas por favor ya manden envien mensajes mensaje cuando"
    " como gracias pago pagos caso orden lista es se y con esto basta hola"
)
_EN_HINTS = _words(
    "the i my you u to stop please pls dont want is do how when what text texts texting this"
    " these off of and it can pay payment support order list"
)

_CLAUSE_SPLIT = re.compile(r"([.!?,;:¿¡\n]+)")
_TOKEN = re.compile(r"[a-z0-9#]+")


def _ends_with_question_mark(text: str) -> bool:
    # Only the few characters after the last letter or digit are looked at.
    for ch in reversed(text):
        if ch.isalnum():
            return False
        if ch == "?":
            return True
    return False


def _read_words(words: list[str]) -> list[str]:
    """Read letters spaced out as one word ("s t o p texting"), digits used as letters ("st0p") and
    misspelled opt-out words ("stpo", "cancle") as the words meant (`consent.spelling`)."""
    read: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            read.extend(["".join(run)] if len(run) >= 3 else run)
            run = []
        if word:
            read.append(word)
    read = [deleet(word) for word in read]
    return [misspelled_as(word, inflected=False) or word for word in read]


def _clauses(text: str, folded: str) -> tuple[list[tuple[str, bool, frozenset[str]]], str | None]:
    """Split into clauses of canonical tokens, and tell the language the words suggest.

    Each clause comes with whether a "?" follows it or a "¿" precedes it, and its set of tokens.
    """
    # `normalise` strips edge punctuation; put back a final "?" so the last clause can be a question.
    if _ends_with_question_mark(text):
        folded += "?"
    elif text.rstrip().endswith("#"):
        folded += " #"  # "wrong #": `normalise` strips the "#" with the other edge punctuation
    # Apostrophes vanish so "don't" and "dont" are one token; squeezing the whole string at once is
    # several times cheaper than squeezing token by token.
    parts = _CLAUSE_SPLIT.split(_sq(folded.replace("'", "").replace("\u2019", "")))
    synonym = _SYNONYMS.get
    clauses = []
    english = spanish = 0
    for i in range(0, len(parts), 2):
        words = _read_words(_TOKEN.findall(parts[i]))
        if words:
            after = parts[i + 1] if i + 1 < len(parts) else ""
            question_mark = "?" in after or (i > 0 and "¿" in parts[i - 1])
            tokens = [synonym(w, w) for w in words]
            clauses.append((" ".join(tokens), question_mark, frozenset(tokens)))
            english += len(_EN_HINTS.intersection(words))
            spanish += len(_ES_HINTS.intersection(words))
    language = None if english == spanish else "en" if english > spanish else "es"
    return clauses, language


# --- vocabulary ---------------------------------------------------------------------------------

_OBJ = r"(?:txt|alert)"
_STOP = _alt(
    "stop",
    "stp",
    "quit",
    "cease",
    "halt",
    "end",
    "cancel",
    "discontinue",
    "pause",
    "parar",
    "paren",
    "pare",
    "detener",
    "detengan",
    "detenga",
    "cancelar",
    "cancelen",
    "cancele",
    "cancela",
    "terminar",
    "terminen",
    "suspender",
    "suspendan",
    "basta de",
    "basta con",
    "enough with",
    "enough of",
    "no more",
    "not any more",
    "no mas",
    "ningun",
    "ninguno",
)
_DET = _alt(
    "the",
    "these",
    "this",
    "those",
    "that",
    "your",
    "all",
    "any",
    "all these",
    "all the",
    "all your",
    "any more",
    "more",
    "los",
    "las",
    "estos",
    "estas",
    "esos",
    "sus",
    "tus",
    "el",
    "la",
    "todos los",
    "mas",
    "de",
    "of",
    "stupid",
    "annoying",
    "damn",
    "dam",
    "automated",
    "fucking",
    "freaking",
)
_PRON = _alt(
    "me",
    "us",
    "my phone",
    "my cel",
    "my cell",
    "my number",
    "this number",
    "this phone",
    "this #",
    "my #",
)
_SEND_EN = _alt(
    "sending",
    "contacting",
    "calling",
    "emailing",
    "bothering",
    "harassing",
    "harrassing",
    "spamming",
    "bugging",
)
_RECEIVE_EN = _alt("sending", "getting", "receiving", "giving")
_SEND_ES = _alt(
    "manden",
    "mande",
    "mandes",
    "envien",
    "envie",
    "envies",
    "escriban",
    "escriba",
    "escribas",
    "contacten",
    "contacte",
    "texteen",
    "textee",
    "llamen",
    "llame",
    "molesten",
    "moleste",
)
_SEND_ES_INF = _alt(
    "enviar",
    "mandar",
    "escribir",
    "textear",
    "contactar",
    "molestar",
    "llamar",
    "enviarme",
    "mandarme",
    "escribirme",
    "textearme",
    "contactarme",
    "molestarme",
    "llamarme",
    "recibir",
)
# Things one stops sending that are not texts: paper mail and money.
_PAPER = _alt(
    "letters",
    "letter",
    "mail",
    "papers",
    "paper",
    "bills",
    "bill",
    "statements",
    "statement",
    "checks",
    "check",
    "paychecks",
    "payments",
    "payment",
    "money",
    "support",
    "cards",
    "card",
    "cartas",
    "carta",
    "correo",
    "papeles",
    "pagos",
    "pago",
    "dinero",
    "cheque",
    "cheques",
    "facturas",
    "factura",
    "documentos",
)
_END = r"(?=$| please| por favor| now| ahora| already| ya| thanks| thank| gracias| thx| ty| asap)"
_LIST = _alt("list", "lists", "txt", "alert", "system", "database", "program", "service")
_LIST_ES = _alt("lista", "listas", "txt", "alert", "sistema", "servicio", "programa")
_DET_ES = _alt("la", "las", "los", "su", "sus", "esta", "estas", "este", "estos", "tu", "el")
_PHONE_ES = _alt("mi numero", "este numero", "mi telefono", "mi cel", "mi celular", "mi #")
_UNSUB_PHRASES = (
    "unsubscribe",
    "unsubcribe",
    "unsuscribe",
    "unsub",
    "desuscribir",
    "desuscribirme",
    "desuscribanme",
    "desinscribir",
    "desinscribirme",
    "desinscribanme",
    "opt out",
    "optout",
    "opt me out",
    "opt us out",
    "cancelar mi suscripcion",
    "cancelar la suscripcion",
)
_UNSUB = _alt(*_UNSUB_PHRASES)
_OPT_OUT_WORDS = _alt(
    "no more",
    *(normalise(k.word) for k in KEYWORDS if k.family is KeywordFamily.OPT_OUT),
)
_FILLER = _alt(
    "please",
    "now",
    "already",
    "just",
    "ok",
    "okay",
    "k",
    "thanks",
    "thank",
    "you",
    "ty",
    "thx",
    "asap",
    "immediately",
    "right",
    "away",
    "omg",
    "god",
    "dude",
    "seriously",
    "again",
    "por",
    "favor",
    "gracias",
    "ya",
    "ahora",
    "mismo",
    "ahorita",
    "oye",
)
# A keyword followed straight by a subject ("stop i already paid") is a sentence of its own.
_SUBJECT = _alt("i", "im", "ive", "id", "ill", "we", "yo", "ya", "you")


_REMOVE_EN = "take remove delete drop erase get unenroll unregister"
_REMOVE_ME_ES = (
    "quitenme quiteme quitame quitarme sacame saquenme saqueme sacarme borrenme borreme borrarme"
    " borrame eliminenme elimineme eliminarme eliminame remuevanme"
)
_REMOVE_ES = "quiten quite quitar borren borre borrar eliminen elimine eliminar saquen sacar"


@dataclass(frozen=True)
class _Rule:
    """A revocation pattern, tried only when the clause holds one of its trigger words."""

    name: str
    triggers: frozenset[str] | None
    pattern: re.Pattern[str]

    def matches(self, clause: str, tokens: frozenset[str]) -> bool:
        """Tell whether the rule matches a clause whose token set is `tokens`."""
        if self.triggers is not None and self.triggers.isdisjoint(tokens):
            return False
        return self.pattern.search(clause) is not None


def _rule(name: str, triggers: str | None, pattern: str) -> _Rule:
    # Trigger words spare most clauses most of the regex work: one big alternation tried at every
    # position cost more than the whole rest of the classifier.
    return _Rule(name, None if triggers is None else _words(triggers), re.compile(_sq(pattern)))


_RULES = (
    _rule(
        "keyword_clause",
        None,
        rf"^(?:{_FILLER} )*{_OPT_OUT_WORDS}(?: (?:{_FILLER}|{_OPT_OUT_WORDS}))*"
        rf"(?:$|(?= {_SUBJECT}\b))",
    ),
    _rule(
        "stop_texting",
        "txt alert",
        rf"\b{_STOP} (?:please )?(?:{_RECEIVE_EN} )?(?:{_PRON} )?(?:{_DET} ){{0,2}}{_OBJ}\b",
    ),
    _rule(
        "stop_sending",
        "stop quit cease",
        rf"\b(?:stop|quit|cease) (?:please )?{_SEND_EN}\b(?: {_PRON}\b)?+"
        rf"(?! (?:{_DET} )?{_PAPER}\b)",
    ),
    _rule(
        "dont_text",
        "dont not never",
        r"\b(?:dont|do not|never)(?: ever)?(?: again)? (?:txt|contact|call|message)"
        r" (?:me|us|this|my|again|anymore|here)\b"
        r"|\b(?:dont|do not|never)(?: ever)?(?: again)? (?:txt|contact|message)(?: me| us)?"
        r"(?: again| anymore| ever)?$"
        r"|\b(?:can|could|would|will) you (?:please )?not (?:txt|contact|call) me\b"
        rf"|\b(?:dont|do not|never)(?: ever)? send (?:me |us )?(?:{_DET} ){{0,2}}{_OBJ}\b",
    ),
    _rule(
        "dont_want",
        "txt alert contacted",
        rf"\b(?:dont|do not|no longer|never)(?: really)? (?:want|wish|need|like)"
        rf"(?: to (?:get|receive|be sent|have))?(?: {_DET}){{0,2}} {_OBJ}\b"
        r"|\b(?:dont|do not|no longer) want to be (?:txt|contacted)\b"
        rf"|\bnot interested in (?:{_DET} ){{0,2}}{_OBJ}\b",
    ),
    _rule(
        "no_quiero",
        "quiero",
        rf"\bno quiero (?:recibir |que me {_SEND_ES} )?(?:{_DET} ){{0,2}}{_OBJ}\b"
        r"|\bno quiero recibir (?:mas )?nada\b"
        rf"|\bno quiero que me {_SEND_ES}\b(?! (?:{_DET_ES} )?{_PAPER}\b)",
    ),
    _rule(
        "no_me_manden",
        "no",
        rf"\bno (?:me|nos) (?:{_SEND_ES}|vuelvan? a {_SEND_ES_INF})\b"
        rf"(?! (?:{_DET_ES} )?{_PAPER}\b)",
    ),
    _rule(
        # The infinitive form of a request: "favor de no enviar mas mensajes".
        "no_enviar",
        "no",
        rf"\bno (?:{_SEND_ES_INF})(?:me|nos)? (?:mas )?(?:{_DET_ES} ){{0,2}}{_OBJ}\b",
    ),
    _rule(
        "dejen_de",
        "de",
        rf"\b(?:dejen|deje|dejar|dejes|deja|dejan|paren|pare|para|parar) de {_SEND_ES_INF}\b"
        rf"(?! (?:{_DET_ES} )?{_PAPER}\b)",
    ),
    _rule(
        "list_removal",
        f"{_REMOVE_EN} want be",
        rf"\b{_alt(*_REMOVE_EN.split())} (?:me|us|my (?:cel |cell |phone |mobile )?"
        rf"(?:number|#|phone|cel|cell)|this (?:number|phone|#))"
        rf"(?: (?:of|off|from|out of)(?: {_DET})?(?: (?:txt|alert|mailing|contact|sms))?"
        rf"(?: {_LIST})?)?+{_END}"
        rf"|\b(?:want|get|be taken|be removed) (?:of|out of|from) (?:{_DET} )?"
        r"(?:(?:txt|alert|mailing|sms) )?list\b",
    ),
    _rule(
        "lista",
        f"{_REMOVE_ME_ES} {_REMOVE_ES} salir salirme salgo den dar",
        rf"\b{_alt(*_REMOVE_ME_ES.split())}(?: del?(?: {_DET_ES})? {_LIST_ES})?+{_END}"
        rf"|\b(?:salir|salirme|me salgo) del?(?: {_DET_ES})? {_LIST_ES}\b"
        rf"|\b(?:{_alt(*_REMOVE_ES.split())}|den de baja|dar de baja) {_PHONE_ES}\b",
    ),
    _rule(
        "baja",
        "baja",
        rf"\b(?:darme|denme|dame|deme|me doy|darse) de baja"
        rf"(?:{_END}| del?(?: {_DET_ES})? (?:{_OBJ}|{_LIST_ES})\b)"
        rf"|\bdar de baja (?:{_DET_ES} )?{_OBJ}\b",
    ),
    _rule(
        "unsubscribe",
        " ".join(phrase.split()[0] for phrase in _UNSUB_PHRASES),
        rf"\b{_UNSUB}\b(?: (?:me|us))?+(?! (?:of|from) (?!(?:the |these |this |your |all |those )?"
        rf"(?:txt|alert|list|this|these|them|it|everything|al|you|your|here)\b))",
    ),
    _rule(
        "wrong_number",
        "wrong equivocado equivocaron equivocaste",
        r"\bwrong (?:number|person|phone)\b|\bwrong #|\bnumero equivocado\b"
        r"|\bequivoca(?:do|ron|ste) de (?:numero|persona)\b",
    ),
    _rule(
        # Formal wording: "I revoke my consent", "I withdraw my permission to text me".
        "formal_revocation",
        "revoke revoking revoked withdraw withdrawing withdrawn rescind rescinding retract terminate"
        " consent permission authorization authorisation agree",
        r"\b(?:revoke|revoking|withdraw|withdrawing|rescind|rescinding|retract|retracting|terminate|cancel"
        r"|end|remove|take back|pull)\w*(?: (?:any|all|my|the|our|your|of|prior|previous|earlier|express"
        r"|written|this|that|such))* (?:consent|permission|authorization|authorisation|agreement|opt in)\b"
        r"|\b(?:consent|permission|authorization) (?:is |has been |was )?(?:revoked|withdrawn|rescinded"
        r"|cancel+ed|terminated)\b"
        r"|\bi (?:no longer|do not|dont|did not|didnt|never) (?:consent|agree|give (?:my |you )?"
        r"(?:consent|permission)|authorize|authorise)\b"
        r"|\b(?:you|u) (?:do not|dont|no longer) have (?:my )?(?:consent|permission)\b",
    ),
    _rule(
        "revocacion_formal",
        "revoco revocar revocando retiro retirar cancelo anulo consentimiento autorizacion permiso autorizo"
        " consiento doy",
        r"\b(?:revoco|revocar|revocando|retiro|retirar|retirando|cancelo|anulo|anular|quito|quitar)"
        r"(?: (?:mi|el|la|mis|los|todo|todos|cualquier|su|este|esta))* (?:consentimiento|autorizacion"
        r"|permiso|aprobacion)\b"
        r"|\b(?:ya )?no (?:autorizo|consiento|doy (?:mi |el |mas )?"
        r"(?:permiso|consentimiento|autorizacion))\b",
    ),
    _rule(
        # "forget my number", "block this number", "lose my number", "delete me".
        "forget_number",
        "forget block lose delete erase remove",
        rf"\b(?:forget|block|lose|delete|erase|remove) (?:{_PRON}|my info|my information|me)\b"
        r"(?! (?:from|off|of) (?:the |my )?(?:case|order|account)\b)",
    ),
    _rule(
        "olviden_numero",
        "olviden olvide olvidar bloqueen bloquee bloquear borren borre borrar eliminen elimine",
        r"\b(?:olviden|olvide|olvidar|bloqueen|bloquee|bloquear|borren|borre|borrar|eliminen|elimine|eliminar)"
        r"(?:me)? (?:mi|este|el) (?:numero|telefono|cel|celular|#)\b",
    ),
    _rule(
        # "leave me alone", "leave me in peace", "déjenme en paz".
        "leave_alone",
        "leave alone peace dejenme dejeme dejame dejen deje paz tranquilo tranquila",
        r"\bleave (?:me|us) (?:alone|be|in peace)\b|\blet me be\b"
        r"|\b(?:dejenme|dejeme|dejame|dejen(?:me)?|deje(?:me)?) (?:en paz|tranquil[oa]s?|de molestar)\b",
    ),
    _rule(
        # "turn off these notifications", "shut the texts off", "disable alerts".
        "turn_off",
        "turn shut switch disable deactivate unenroll apaguen apague apagar desactiven desactive desactivar"
        " quiten quitar cancelen cancelar",
        rf"\b(?:turn|shut|switch) (?:off )?(?:{_DET} ){{0,2}}(?:{_OBJ}|notifications?)(?: off)?\b"
        rf"|\b(?:turn|shut|switch) (?:it|them|this|these|that) off\b"
        rf"|\b(?:disable|deactivate) (?:{_DET} ){{0,2}}{_OBJ}\b"
        rf"|\b(?:apaguen|apague|apagar|desactiven|desactive|desactivar|quiten|quitar|cancelen|cancelar)"
        rf" (?:{_DET_ES} ){{0,2}}{_OBJ}\b",
    ),
    _rule(
        # "no texts please", "no more msgs", "no txt", "ningún mensaje más".
        "no_texts",
        "no not ningun none nada zero",
        rf"^(?:{_FILLER} )*(?:no|no more|not any more|none|zero|ningun|nada de)(?: more| mas)? {_OBJ}"
        rf"(?: (?:{_FILLER}|more|mas|anymore|ever|again|to this number|to me|at all))*$"
        r"|\bno (?:more )?txt (?:me|us|this)\b",
    ),
    _rule(
        # The number has changed hands, or the texter is not the person meant.
        "not_the_person",
        "this that not isnt aint new reassigned recycled got number dont do know no numero telefono este"
        " es soy conozco acabo recien yo se",
        r"\b(?:this|that|it) (?:is not|isnt|aint|is no longer|was never)"
        r" (?:\w+s |\w+ \w+s |the right |the |your )?(?:phone|number|#|cel|cell|celphone|cellphone)\b"
        r"|\b(?:this|that) (?:is not|isnt) (?:the )?(?:person|who) (?:you|u)\b"
        r"|\b(?:i am|im|i m) not (?:the person|who you think|him|her|that person|the one"
        r"|\w+ \w+s (?:mom|dad))\b"
        r"|\bno (?:one|body) (?:here )?(?:by|named|with) (?:that|this)? ?name\b"
        r"|\b(?:i )?(?:dont|do not) know (?:who|this person|that person|anyone|any \w+|a \w+ named)\b"
        r"|\b(?:new|reassigned|recycled) (?:number|phone|#)\b"
        r"|\b(?:just|recently) got (?:this|a new|my new) (?:number|phone|#)\b"
        r"|\bnumber (?:changed hands|was reassigned|belongs to (?:me|someone else))\b"
        r"|\bnot (?:his|her|their) (?:number|phone)(?: anymore)?\b"
        r"|\bno (?:es|soy) (?:el|la) (?:numero|telefono|celular|persona) (?:de|que)\b"
        r"|\beste (?:no es el|ya no es el) (?:numero|telefono|celular|cel) de\b"
        r"|\b(?:numero|telefono) (?:equivocado|incorrecto|errone?o)\b"
        r"|\bno conozco a (?:esa persona|ese señor|esa señora|nadie|ningun|ninguna|\w+)\b"
        r"|\b(?:este|es un) numero (?:es )?nuevo\b|\b(?:acabo de|recien) (?:obtener|cambiar|sacar|comprar)"
        r" (?:este|el|mi) (?:numero|telefono|cel)\b"
        r"|\byo no soy (?:\w+ ?){1,3}$|\bse equivoca(?:ron|n)\b",
    ),
    _rule(
        # "I want to be removed", "I wish to no longer receive these messages", "stop getting these".
        "stop_receiving",
        "removed taken unsubscribed unenrolled deleted stop quit cease longer not never",
        r"\b(?:want|like|need|wish|ask) (?:to be|for me to be|you to) (?:removed|taken off|unsubscribed"
        r"|unenrolled|opted out|deleted|remove me|take me off|unsubscribe me)\b"
        rf"|\b(?:stop|quit|cease|no longer|not|never) (?:to )?(?:get|getting|receive|receiving)"
        rf"(?: (?:any|all|these|those|them|this|that|more|your|the))*(?: {_OBJ}|$| anymore)"
        r"|\b(?:no longer|dont|do not|never) (?:want|wish|like|need) (?:to be|being)"
        r" (?:contacted|txt|reached|bothered)\b",
    ),
    _rule(
        # "I never signed up for this": the texter says they never consented.
        "never_consented",
        "never didnt did not signed sign subscribe subscribed asked agreed opted nunca me",
        r"\bi (?:never|didnt|did not|have not|havent) (?:ever )?(?:sign(?:ed)? up|subscribe[d]?|opt(?:ed)? in"
        r"|ask(?:ed)? for|agree[d]? to|enrol+(?:ed)?|register(?:ed)?)(?: (?:for|to))?"
        rf"(?: (?:this|these|that|it|them|any of (?:this|these|it)|anything|{_OBJ}|this service"
        rf"|your {_OBJ}))?$"
        r"|\b(?:nunca|no) (?:me )?(?:inscribi|suscribi|registre|pedi|autorice|aprobe|di permiso)\b",
    ),
    _rule(
        # Telling us to go away: "go away", "f off", "get lost", "vete".
        "go_away",
        "go away get lost off fuck f piss vete vayanse largo larguense",
        r"^(?:(?:just|please|pls|now|and|omg|ok|so|now) )*(?:go away|get lost"
        r"|(?:fuck|f|piss|buzz|bugger|back) off|vete|vayanse|largate|larguense)\b",
    ),
    _rule(
        # A bare "stop it", "quit this", "end it now": a stop word whose object is the texts themselves.
        "stop_it",
        "stop quit cease end halt discontinue",
        rf"^(?:{_FILLER} )*(?:stop|quit|cease|halt|end|discontinue)(?: (?:it|this|that|these|them|all"
        rf"|this now|it now|all of it|all this|everything))?(?: (?:{_FILLER}))*$"
        r"|^cease and desist\b",
    ),
    _rule(
        "said_stop",
        "said told asked",
        rf"\b(?:i said|i told you|told you|i asked you|asked you)(?: to)? {_OPT_OUT_WORDS}\b",
    ),
)


def _revocation_rule(clause: str, tokens: frozenset[str]) -> str | None:
    """Name the first revocation rule that matches the clause, if any."""
    for rule in _RULES:
        if rule.matches(clause, tokens):
            return rule.name
    return None


# "keep texting me" / "no dejen de mandarme" are the opposite of a revocation.
_WANTS_TEXTS = _rule(
    "wants_texts",
    "keep continue stop txt send dejen deje paren pare sigan siga mandar enviar mandarme enviarme",
    rf"^(?:(?:yes|si|ok|okay|please|so) )*(?:keep|continue) (?:{_OBJ}|sending)\b"
    r"|\b(?:dont|do not|never) stop\b"
    r"|^(?:please )?txt me\b"
    r"|\b(?:can|could|would|will|why dont) (?:you )?(?:please )?(?:txt|send) me\b"
    rf"|\bno (?:dejen|deje|paren|pare) de {_SEND_ES_INF}\b"
    r"|\b(?:sigan|siga) (?:enviando|mandando)"
    r"|\b(?:pueden|puede|podrian|podria) (?:mandar|enviar)(?:me)?\b",
)
_REQUEST = re.compile(
    _sq(
        r"^(?:please )?(?:can|could|would|will|cn) (?:you|u)\b|^how about\b"
        r"|^(?:pueden|puede|podrian|podria)\b"
    )
)
_QUESTION_WORD = re.compile(
    _sq(
        r"^(?:when|how|can|could|what|why|where|is|does|did|do(?! not)|will|would|should|who"
        r"|which|are|am|cuando|como|que|puedo|puede|pueden|por que|porque|donde|cual|cuanto"
        r"|cuanta|hay)\b"
    )
)
# Support-order vocabulary, as whole tokens or as stems ("pay" covers paying, payment, payments).
_SUPPORT_WORDS = _words(
    "order orders ordr case cases autopay paid payed support suport kid kids child son daughter"
    " turns 18 job jobs work employer check checks court hearing appointment balance arrears owe"
    " owed debt judge custody account bank card deposit plan letter letters mail address amount"
    " due orden caso trabajo embargo sueldo cheque corte audiencia cita deuda debo cuota hijo"
    " hija cumple tribunal juez cuenta banco carta cartas direccion tarjeta"
)
_SUPPORT_STEMS = tuple(_words("pay pag garnish withhold wage licen modif manutencion retencion descuento"))


def _about_support(tokens: frozenset[str]) -> bool:
    return not _SUPPORT_WORDS.isdisjoint(tokens) or any(token.startswith(_SUPPORT_STEMS) for token in tokens)


_ANNOYED = re.compile(
    _sq(
        r"\bspam\w*|\bno quiero (?:nada|esto)\b"
        r"|^(?:no|nope|nah|no way|no thanks|no thank you|no thx|no ty|no gracias|no grax|nel|negativo)$"
        r"|^(?:who is this|who dis|who are you|whos this|quien es|quien eres|quien habla|quienes son)$"
        r"|^(?:shut up|stfu|seriously|really|ugh+|omg|wtf|smh|ya|enough|basta|ya basta)$"
        r"|\b(?:dont|do not) want (?:this|that|it)$|\b(?:keep|still|always) (?:txt|sending)\b"
        r"|\bannoying\b|\bnot interested\b|\bno (?:estoy|estamos) interesad[oa]s?\b"
        r"|\bno me interesa\b"
    )
)
_STOP_WORD = re.compile(
    _sq(
        r"\b(?:stop|quit|cancel|cease|halt|enough|unsubscribe|parar|paren|pare|cancelar|cancela"
        r"|basta|detener|dejo de|dejar de|salgo|salir|salirme|baja|opt out)\b|^(?:end|para)\b"
        r"|\bend (?:this|it|that|all|everything)$"
    )
)


# A bare "no" answering "do you want to keep getting texts?" says they do not.
_NO_ANSWER = re.compile(
    r"^(?:no+|nope|nah|no way|no thanks?|no thank you|no gracias|no quiero|no,? no|nel|negativo|not really)"
    r"(?: (?:thanks|thank you|gracias|please|por favor|more|mas))*$"
)


def classify_revocation(text: str, *, answering_keep_question: bool = False) -> Revocation:
    """Classify a message as revoking consent to texts, not revoking it, or unclear.

    answering_keep_question: the last thing we sent asked whether they want to keep getting texts, so a
    bare "no" ("nope", "no gracias") is their answer: a revocation.
    """
    folded = normalise(text)
    keyword = match_normalised(folded)
    if keyword is not None:
        verdict = Verdict.REVOKE if keyword.family is KeywordFamily.OPT_OUT else Verdict.NOT_REVOKE
        return Revocation(verdict, keyword.language, f"keyword:{keyword.family.value}")
    if answering_keep_question and _NO_ANSWER.match(" ".join(folded.replace(",", " ").split())):
        return Revocation(Verdict.REVOKE, None, "answer:no")

    clauses, language = _clauses(text, folded)
    if not clauses:
        return Revocation(Verdict.NOT_REVOKE, None, "empty")

    questioned: str | None = None
    wants_texts = False
    for clause, question_mark, tokens in clauses:
        if _WANTS_TEXTS.matches(clause, tokens):
            wants_texts = True
            continue
        rule = _revocation_rule(clause, tokens)
        if rule is None:
            continue
        # "stop texting me?!" is still an order; a question mark only turns a bare keyword
        # ("ok cancel?") into a question. A question word does ("how do i stop these texts"),
        # unless it opens a polite request ("can you stop texting me").
        is_question = (_QUESTION_WORD.search(clause) is not None and _REQUEST.search(clause) is None) or (
            rule == "keyword_clause" and question_mark
        )
        if is_question:
            questioned = questioned or rule
        else:
            return Revocation(Verdict.REVOKE, language, f"pattern:{rule}")

    if questioned is not None:
        return Revocation(Verdict.UNCLEAR, language, f"question:{questioned}")
    if wants_texts:
        return Revocation(Verdict.NOT_REVOKE, language, "wants_texts")
    if _about_support(frozenset().union(*(tokens for _, _, tokens in clauses))):
        return Revocation(Verdict.NOT_REVOKE, language, "support_topic")
    if _ANNOYED.search(" . ".join(clause for clause, _, _ in clauses)):
        return Revocation(Verdict.UNCLEAR, language, "annoyed")
    if any(_STOP_WORD.search(clause) for clause, _, _ in clauses):
        return Revocation(Verdict.UNCLEAR, language, "stop_word_without_object")
    return Revocation(Verdict.NOT_REVOKE, language, "no_cue")
