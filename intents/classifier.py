"""The embedded intent classifier: softmax regression over typo-tolerant features, in pure Python.

Trained from intents/nlu.yml (Rasa's NLU YAML, so an agency can train Rasa on the same file) in a
fraction of a second when first used, with no network and no model file. How a text is read:

1. Folded (case, accents: "Cuándo PAGÓ" -> "cuando pago"), apostrophes dropped ("when's" -> "whens"),
   runs of one repeated letter squeezed ("helloooo" -> "helo", "appointment" -> "apointment"), split into
   words. Only the first 64 words are read: they hold the question, and the cap bounds the time a
   1,600-character text can take.
2. Each word is mapped to a canonical token by a small table of texting abbreviations and typos
   (pymt/pmt -> payment, wen -> when, u -> you, appt -> appointment), a few Spanish nouns to their
   English twins (cita -> appointment, corte -> court) so either language's examples teach the other,
   and the words of out-of-scope topics to one token per topic (snap/wic/medicaid -> benefits).
3. Features: canonical words, pairs of neighbouring words, and character 3- to 5-grams of each word of
   three letters or more, "<" and ">" marking its ends: a typo breaks one word but only some of its
   grams ("paymnet" keeps "<pay", "aym"). A word never seen in training counts as one "unknown" feature,
   learnt from the words seen in a single training example; an out-of-scope topic token adds a shared
   "topic" feature.
4. A linear softmax model, one weight per feature and intent, fitted by a few passes of stochastic
   gradient descent (`Classifier._train`). The scores, divided by a temperature, go through a softmax.
5. When the likeliest intent is a case intent (`CASE_INTENTS`) but out_of_scope is at least
   `Tuning.out_of_scope_ratio` times as likely, the answer is out_of_scope: answering "when do my food
   stamps come" with a payment date is worse than asking a parent to rephrase. A text torn between two
   case intents is still a case question, so it is not rejected for that. greet, thanks and help are
   answered when their probability reaches `chat_threshold`; answering them by mistake is harmless.

The numbers in `DEFAULT_TUNING` were chosen by cross-validation on nlu.yml alone: the temperature that
minimises log-loss of the left-out folds' predictions (so a confidence of 0.8 is right about 80 % of the
time there), the ratio and the chat threshold that maximise the share of right answers less 5 for each
out_of_scope text answered as a case question, and the feature values from a small grid.
`python bench/intent_quality.py --tune` reproduces them; heldout.yml plays no part.
"""

from __future__ import annotations

import enum
import math
import random
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from intents.language import fold, guess_from_words, has_spanish_marks, squeeze

__all__ = [
    "CASE_INTENTS",
    "DEFAULT_TUNING",
    "NLU_PATH",
    "Classifier",
    "Example",
    "Intent",
    "Parse",
    "Tuning",
    "decide",
    "load",
    "load_examples",
    "parse",
    "softmax",
    "words",
]

NLU_PATH = Path(__file__).resolve().parent / "nlu.yml"


class Intent(enum.StrEnum):
    """What a participant's text asks for (DESIGN.md, "Contracts")."""

    NEXT_DUE_DATE = "next_due_date"
    LAST_PAYMENT = "last_payment"
    NEXT_APPOINTMENT = "next_appointment"
    PAYMENT_OPTIONS = "payment_options"
    OFFICE_INFO = "office_info"
    AGENT_REQUEST = "agent_request"
    UPDATE_INFO = "update_info"
    DOCUMENTS = "documents"
    GREET = "greet"
    THANKS = "thanks"
    HELP = "help"
    OUT_OF_SCOPE = "out_of_scope"


# The intents whose answer is about the participant's case or sends them somewhere: an out_of_scope text
# taken for one of these is the costly mistake. greet, thanks and help answer harmlessly.
CASE_INTENTS = frozenset(
    {
        Intent.NEXT_DUE_DATE,
        Intent.LAST_PAYMENT,
        Intent.NEXT_APPOINTMENT,
        Intent.PAYMENT_OPTIONS,
        Intent.OFFICE_INFO,
        Intent.AGENT_REQUEST,
        Intent.UPDATE_INFO,
        Intent.DOCUMENTS,
    }
)


@dataclass(frozen=True)
class Parse:
    """What a text asks, how sure the classifier is, and the language it is written in.

    `confidence` is the probability, in [0, 1], that `intent` is right. When the text was sent to
    out_of_scope because no intent was likely enough, it is the probability that the likeliest intent
    is wrong. `language` is "en" or "es". `language_clear` (beyond DESIGN.md's contract, hence the
    default) is False when the words did not settle the language: `language` is then only the likelier
    guess, and a reply should use the participant's stated preference.
    """

    intent: Intent
    confidence: float
    language: str
    language_clear: bool = True


@dataclass(frozen=True)
class Example:
    """One training or test text with its intent."""

    text: str
    intent: Intent


@dataclass(frozen=True)
class Tuning:
    """The knobs of the model (see the module docstring for how they were chosen)."""

    epochs: int = 10  # passes over the training data
    learning_rate: float = 0.3  # the first pass's step; pass k takes learning_rate / k
    bigram_weight: float = 1.0  # a word pair's value; a single word's is 1
    char_weight: float = 0.5  # a character gram's value: a word has many, so each says less
    unknown_weight: float = 0.5  # the value of one word never seen in training
    out_of_scope_weight: float = 1.0  # an out_of_scope example's step is this many times larger
    temperature: float = 0.919  # divides the scores before the softmax
    out_of_scope_ratio: float = 0.13  # out_of_scope this many times as likely as a case intent wins
    chat_threshold: float = 0.45  # below this, greet, thanks and help give way to out_of_scope


DEFAULT_TUNING = Tuning()

# --- reading a text -----------------------------------------------------------------------------

_MAX_WORDS = 64
_WORD = re.compile(r"[a-z0-9]+|#")
_UNKNOWN = "\x00unknown"
_TOPIC = "\x00topic"

# Canonical token: the spellings texted for it. Keys and variants are squeezed like the text is.
_CANONICAL_SPELLINGS = {
    "payment": "payment payments pymt pymts pymnt pymnts pmt pmts paymt paymnt paymnts paymet pament"
    " paymen paymant payement pyment",
    "when": "when wen whn wn",
    "whens": "whens wens",
    "you": "you u yu",
    "your": "your ur yur",
    "are": "are r",
    "next": "next nxt nex",
    "appointment": "appointment appointments appt appts apt apointment appoinment appointmnt apptmt"
    " cita citas",
    "court": "court crt cort corte",
    "hearing": "hearing hearings audiencia audiencias",
    "please": "please pls plz plez plis porfa porfavor",
    "thanks": "thanks thank thx thnx thanx tnx ty tysm tyvm",
    "what": "what wat wht wut",
    "whats": "whats wats",
    "support": "support suport cs childsupport manutencion",
    "received": "received recieved recived rcvd recvd receive recieve",
    "tomorrow": "tomorrow tmrw tmr tomorow 2morrow manana",
    "number": "number numbr num numero #",
    "address": "address adress addres addy direccion direcion",
    "office": "office ofc offc ofice oficina",
    "phone": "phone fone telefono cel cell celular",
    "documents": "documents docs documentos papers papeles paperwork",
    "agent": "agent agente rep representative representante",
    "someone": "someone somebody alguien",
    "que": "que q",
    "porque": "porque xq pq porq",
    "donde": "donde dnd onde",
    "cuando": "cuando kuando cuado",
    "cuanto": "cuanto kuanto",
    "quiero": "quiero kiero",
    "hello": "hello helo hi hey hiya hola ola holi",
    "dad": "dad daddy father papa",
    "kids": "kids kid children child childs hijos hijo hija hijas ninos nino",
    "money": "money dinero",
    "paid": "paid payed",
    "have": "have hav",
    "going": "going gonna",
    "want": "want wanna",
    "got": "got gotta",
    # Out-of-scope topics (nlu.yml's header), one token per topic: an example with one of these words
    # teaches the model about all of them ("when is my dentist appointment" learns from "when is my
    # doctor appointment"). Each word is in an out_of_scope example of nlu.yml or translates one.
    # Words that in-scope texts use too (bank, walmart, rent, correo, housing) are left out.
    "benefits": "benefits snap ebt stamp stamps estampillas cupones medicaid wic tanf unemployment"
    " desempleo stimulus estimulo ssi disability incapacidad",
    "legal": "custody custodia visitation visitas visita visits divorce divorcio lawyer lawyers attorney"
    " abogado abogada abogados restraining restriccion cps probation probatoria immigration inmigracion"
    " migracion parole condicional eviction desalojo",
    "elsewhere": "dmv pharmacy farmacia cvs library biblioteca hospital consulate consulado school escuela"
    " daycare guarderia",
    "bill": "bill bills recibo ticket multa internet",
    "health": "doctor dentist dentista medico clinic clinica covid",
}
# The topics also share one feature, so an example of one topic teaches the others a little.
_OUT_OF_SCOPE_TOPICS = frozenset({"benefits", "legal", "elsewhere", "bill", "health"})

_CANONICAL = {
    squeeze(variant): squeeze(canonical)
    for canonical, variants in _CANONICAL_SPELLINGS.items()
    for variant in variants.split()
}


def _folded_words(text: str) -> list[str]:
    # Apostrophes go first so "when's" is one word, like "whens".
    return _WORD.findall(squeeze(fold(text.replace("'", "").replace("\u2019", ""))))[:_MAX_WORDS]


def _canonical(folded_words: Iterable[str]) -> list[str]:
    canonical = _CANONICAL.get
    return [canonical(word, word) for word in folded_words]


def words(text: str) -> list[str]:
    """Return the canonical words the classifier reads in a text (at most the first 64)."""
    return _canonical(_folded_words(text))


def _char_grams(word: str) -> list[str]:
    bounded = f"<{word}>"
    size = len(bounded)
    return [bounded[i : i + n] for n in (3, 4, 5) for i in range(size - n + 1)]


def _features(tokens: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Return a text's words (and topic marks), word pairs and character grams: they weigh differently."""
    pairs = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    grams = [f"~{gram}" for token in tokens if len(token) >= 3 for gram in _char_grams(token)]
    topics = [_TOPIC for token in tokens if token in _OUT_OF_SCOPE_TOPICS]
    return [*tokens, *topics], pairs, grams


# --- training data ------------------------------------------------------------------------------


def load_examples(path: Path | str = NLU_PATH) -> list[Example]:
    """Read the examples of a Rasa NLU YAML file: `nlu:` items with `intent` and `examples`."""
    with Path(path).open(encoding="utf-8") as handle:
        document = YAML(typ="safe").load(handle)
    examples = []
    for block in document["nlu"]:
        if "intent" not in block:
            continue  # synonyms, regexes and lookup tables are Rasa's business
        intent = Intent(block["intent"])
        for line in block["examples"].splitlines():
            text = line.strip()
            if text.startswith("- "):
                examples.append(Example(text[2:].strip(), intent))
    return examples


# --- the model ----------------------------------------------------------------------------------

_INTENTS = tuple(Intent)
_OUT_OF_SCOPE_INDEX = _INTENTS.index(Intent.OUT_OF_SCOPE)

# One training example: every weight row its features touch (for the score), and the same rows grouped
# by feature kind with the kind's squared value (for the step).
_Prepared = tuple[list[list[float]], list[tuple[list[list[float]], float]], int]


class Classifier:
    """A trained intent classifier. `classify` only reads the model, so threads may share one."""

    def __init__(self, examples: Iterable[Example], tuning: Tuning = DEFAULT_TUNING) -> None:
        """Train on the examples; every intent gets a class, even one without examples."""
        self.tuning = tuning
        tokenised = [(words(example.text), _INTENTS.index(example.intent)) for example in examples]
        if not tokenised:
            raise ValueError("no training examples")
        # Words seen in one example only stand in for the unknown words of future texts.
        seen_in = Counter(token for tokens, _ in tokenised for token in set(tokens))
        self._known_words = frozenset(seen_in)
        # One weight per (feature, intent). A feature's value (1 for a word, bigram_weight, char_weight,
        # unknown_weight) is folded into its weights, so a score is a plain sum of weights, and a step
        # on a folded weight is scaled by the value squared (the gradient of the unfolded weight).
        self._weights: dict[str, list[float]] = {}
        self._bias = [0.0] * len(_INTENTS)
        values = (1.0, tuning.bigram_weight**2, tuning.char_weight**2, tuning.unknown_weight**2)
        prepared: list[_Prepared] = []
        for tokens, label in tokenised:
            unigrams, pairs, grams = _features(tokens)
            unknown = [_UNKNOWN] * sum(seen_in[token] == 1 for token in tokens)
            groups = [
                ([self._row(feature) for feature in features], value)
                for features, value in zip((unigrams, pairs, grams, unknown), values, strict=True)
                if features
            ]
            prepared.append(([row for rows, _ in groups for row in rows], groups, label))
        self._train(prepared)

    @classmethod
    def from_path(cls, path: Path | str = NLU_PATH, tuning: Tuning = DEFAULT_TUNING) -> Classifier:
        """Train on a Rasa NLU YAML file."""
        return cls(load_examples(path), tuning)

    def _row(self, feature: str) -> list[float]:
        row = self._weights.get(feature)
        if row is None:
            row = self._weights[feature] = [0.0] * len(_INTENTS)
        return row

    def _train(self, prepared: list[_Prepared]) -> None:
        """Fit the weights by stochastic gradient descent on the softmax cross-entropy.

        A few passes with a shrinking step stop the fit before it memorises the examples (there is no
        other regularisation). Two shortcuts make training several times faster without changing the
        model much: a gradient between -0.01 and 0.01 is not applied, and an example that needed no step
        at all sits out the next pass (most examples are fitted after the first passes).
        """
        tuning, bias, exp = self.tuning, self._bias, math.exp
        shuffler = random.Random(0)  # the same model from the same data, every start
        resting_until = [0] * len(prepared)
        order = list(range(len(prepared)))
        for epoch in range(tuning.epochs):
            shuffler.shuffle(order)
            rate = tuning.learning_rate / (epoch + 1)
            for index in order:
                if resting_until[index] > epoch:
                    continue
                rows, groups, label = prepared[index]
                scores = [sum(column) for column in zip(bias, *rows, strict=True)]
                top = max(scores)
                exps = [exp(score - top) for score in scores]
                total = sum(exps)
                weight = tuning.out_of_scope_weight if label == _OUT_OF_SCOPE_INDEX else 1.0
                stepped = False
                for intent, share in enumerate(exps):
                    gradient = share / total - (intent == label)
                    if -0.01 < gradient < 0.01:
                        continue
                    stepped = True
                    step = rate * weight * gradient
                    bias[intent] -= step
                    for group, value in groups:
                        scaled = step * value
                        for row in group:
                            row[intent] -= scaled
                if not stepped:
                    resting_until[index] = epoch + 2

    def scores(self, tokens: Sequence[str]) -> list[float]:
        """Return every intent's score (in `Intent` order) for canonical words, before the temperature."""
        unigrams, pairs, grams = _features(tokens)
        weights = self._weights
        rows = [weights[feature] for feature in (*unigrams, *pairs, *grams) if feature in weights]
        unknown = sum(token not in self._known_words for token in tokens)
        if unknown and _UNKNOWN in weights:
            rows.extend([weights[_UNKNOWN]] * unknown)
        return [sum(column) for column in zip(self._bias, *rows, strict=True)]

    def probabilities(self, text: str) -> dict[Intent, float]:
        """Return the calibrated probability of every intent for a text."""
        probabilities = softmax(self.scores(words(text)), self.tuning.temperature)
        return dict(zip(_INTENTS, probabilities, strict=True))

    def classify(self, text: str) -> Parse:
        """Return the intent of a text, the confidence in it, and the text's language."""
        folded_words = _folded_words(text)
        guess = guess_from_words(folded_words, has_spanish_marks(text))
        if not folded_words:
            return Parse(Intent.OUT_OF_SCOPE, 1.0, guess.language, guess.clear)
        probabilities = softmax(self.scores(_canonical(folded_words)), self.tuning.temperature)
        intent, confidence = decide(probabilities, self.tuning)
        return Parse(intent, confidence, guess.language, guess.clear)


def softmax(scores: Sequence[float], temperature: float) -> list[float]:
    """Turn scores into probabilities that sum to 1; a higher temperature makes them less sure."""
    top = max(scores)
    exps = [math.exp((score - top) / temperature) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def decide(probabilities: Sequence[float], tuning: Tuning) -> tuple[Intent, float]:
    """Pick the intent for probabilities in `Intent` order, out_of_scope when in doubt.

    A case intent is answered unless out_of_scope is at least `out_of_scope_ratio` times as likely as
    it; greet, thanks and help are answered when their probability reaches `chat_threshold`.
    """
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    intent, probability = _INTENTS[best], probabilities[best]
    if intent in CASE_INTENTS:
        doubtful = probabilities[_OUT_OF_SCOPE_INDEX] >= tuning.out_of_scope_ratio * probability
    else:
        doubtful = intent is not Intent.OUT_OF_SCOPE and probability < tuning.chat_threshold
    return (Intent.OUT_OF_SCOPE, 1.0 - probability) if doubtful else (intent, probability)


# --- the default classifier, trained from nlu.yml once per process ------------------------------

_default: Classifier | None = None
_default_lock = threading.Lock()


def load() -> Classifier:
    """Return the classifier trained from intents/nlu.yml, training it on the first call.

    The app may call this at start-up so that the first text does not wait for training. Safe to call
    from several threads at once: only one of them trains.
    """
    global _default
    found = _default
    if found is None:
        with _default_lock:
            if _default is None:
                _default = Classifier.from_path(NLU_PATH)
            found = _default
    return found


def parse(text: str) -> Parse:
    """Return the intent of a participant's text, the confidence in it, and its language."""
    return load().classify(text)
