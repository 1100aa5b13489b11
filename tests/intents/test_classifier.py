"""The intent classifier: its Rasa training data, the held-out set, the contract and named behaviour.

Languages are counted with the classifier's own detector (`intents.language.detect_language`), not by
marking each example: a mixed or ambiguous text ("ok gracias", "como pago con money order") counts
where the detector puts it, and the minimums leave room for that.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import timeit
from collections import Counter
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import intents
from intents import classifier
from intents.classifier import CASE_INTENTS, Classifier, Example, Intent, Parse, load_examples, parse, words
from intents.language import detect_language

ROOT = Path(__file__).resolve().parents[2]
NLU = ROOT / "intents" / "nlu.yml"
HELDOUT = ROOT / "intents" / "heldout.yml"
# DESIGN.md, "Contracts".
DESIGN_INTENTS = (
    "next_due_date last_payment next_appointment payment_options office_info agent_request update_info"
    " documents greet thanks help out_of_scope"
).split()
MAIN_INTENTS = DESIGN_INTENTS[:8]
CHAT_INTENTS = ("greet", "thanks", "help")
MIN_HELDOUT_ACCURACY = 0.90


def read_yaml(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)


def per_language(path: Path) -> Counter[tuple[str, str]]:
    return Counter((e.intent.value, detect_language(e.text).language) for e in load_examples(path))


def heldout_predictions() -> list[tuple[Example, Intent]]:
    return [(example, parse(example.text).intent) for example in load_examples(HELDOUT)]


# --- the data files -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [NLU, HELDOUT], ids=["nlu", "heldout"])
def test_file_is_rasa_nlu_yaml_with_every_design_intent_once(path: Path) -> None:
    document = read_yaml(path)
    assert str(document["version"]) == "3.1"
    blocks = document["nlu"]
    assert [block["intent"] for block in blocks] == DESIGN_INTENTS
    for block in blocks:
        assert set(block) == {"intent", "examples"}, block["intent"]
        lines = block["examples"].splitlines()
        assert lines, block["intent"]
        for line in lines:
            assert line.startswith("- ") and line[2:].strip(), (block["intent"], line)


def test_training_examples_meet_the_minimums_per_intent_and_language() -> None:
    counts = per_language(NLU)
    for intent in DESIGN_INTENTS:
        minimum = 25 if intent in MAIN_INTENTS else 12 if intent in CHAT_INTENTS else 40
        for language in ("en", "es"):
            assert counts[(intent, language)] >= minimum, (intent, language, counts[(intent, language)])


def test_heldout_examples_meet_the_minimums_per_intent_and_language() -> None:
    counts = per_language(HELDOUT)
    for intent in [*MAIN_INTENTS, "out_of_scope"]:
        minimum = 20 if intent == "out_of_scope" else 8
        for language in ("en", "es"):
            assert counts[(intent, language)] >= minimum, (intent, language, counts[(intent, language)])


def test_heldout_and_training_share_no_example() -> None:
    # Normalised the way the classifier reads text, so "wen is my nxt pymt due" and "wen is my next
    # pymt due" are the same example.
    training = {" ".join(words(e.text)) for e in load_examples(NLU)}
    shared = [e.text for e in load_examples(HELDOUT) if " ".join(words(e.text)) in training]
    assert shared == []


@pytest.mark.parametrize("path", [NLU, HELDOUT], ids=["nlu", "heldout"])
def test_no_text_is_labelled_with_two_intents(path: Path) -> None:
    labels: dict[str, set[str]] = {}
    for example in load_examples(path):
        labels.setdefault(" ".join(words(example.text)), set()).add(example.intent.value)
    assert {text: found for text, found in labels.items() if len(found) > 1} == {}


def test_bare_consent_keywords_are_in_no_intent() -> None:
    # STOP, START and HELP are answered by the consent layer before the classifier sees a text.
    keywords = {"stop", "start", "help", "unsubscribe", "cancel", "parar", "ayuda", "info", "yes", "si"}
    assert [e.text for e in load_examples(NLU) if " ".join(words(e.text)) in keywords] == []


# --- the contract -------------------------------------------------------------------------------


def test_parse_returns_the_contract_types() -> None:
    result = intents.parse("when is my next payment due")
    assert isinstance(result, Parse)
    assert isinstance(result.intent, str) and result.intent in DESIGN_INTENTS
    assert isinstance(result.confidence, float) and 0.0 <= result.confidence <= 1.0
    assert result.language in ("en", "es")
    assert isinstance(result.language_clear, bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.intent = Intent.GREET  # type: ignore[misc]


def test_intent_enum_names_the_design_intents() -> None:
    assert [intent.value for intent in Intent] == DESIGN_INTENTS
    assert set(CASE_INTENTS) == set(MAIN_INTENTS)


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("wen is my nxt pymt due", "next_due_date", "en"),
        ("cuando es mi proximo pago", "next_due_date", "es"),
        ("Cuándo es mi próximo pago?", "next_due_date", "es"),
        ("did u get my payment", "last_payment", "en"),
        ("did they pay this month", "last_payment", "en"),
        ("has he paid this month", "last_payment", "en"),
        ("ya pago el papa", "last_payment", "es"),
        ("¿ya pagó el papá?", "last_payment", "es"),
        ("when is my court date", "next_appointment", "en"),
        ("when is my hearing", "next_appointment", "en"),
        ("cuando es mi cita", "next_appointment", "es"),
        ("cuándo es la audiencia", "next_appointment", "es"),
        ("necesito hablar con alguien", "agent_request", "es"),
        ("I need to talk to someone", "agent_request", "en"),
        ("how can i pay", "payment_options", "en"),
        ("donde esta la oficina", "office_info", "es"),
        ("i moved", "update_info", "en"),
        ("necesito una copia de mi orden", "documents", "es"),
        ("hola", "greet", "es"),
        ("thanks", "thanks", "en"),
        ("what can i ask", "help", "en"),
        ("que puedo preguntar", "help", "es"),
    ],
)
def test_named_texts(text: str, intent: str, language: str) -> None:
    result = parse(text)
    assert (result.intent, result.language) == (intent, language), result


@pytest.mark.parametrize(
    "text",
    [
        "is it going to rain tomorrow",
        "tell me a joke",
        "cuentame un chiste",
        "can i get food stamps",
        "how do i get full custody",
        "mi medicaid sigue activo",
    ],
)
def test_out_of_scope_texts(text: str) -> None:
    assert parse(text).intent is Intent.OUT_OF_SCOPE


@pytest.mark.parametrize("text", ["", "   ", "?!", "🙂🙂", "\u200b"])
def test_texts_without_words_are_out_of_scope(text: str) -> None:
    result = parse(text)
    assert result.intent is Intent.OUT_OF_SCOPE
    assert result.language in ("en", "es") and not result.language_clear


def test_a_1600_character_text_is_read_quickly() -> None:
    text = ("hi i have a question about my case and my payments " * 40)[:1600]
    assert len(text) == 1600
    start = time.perf_counter()
    result = parse(text)
    assert time.perf_counter() - start < 0.05
    assert result.intent in DESIGN_INTENTS


@pytest.mark.parametrize(
    ("text", "language", "clear"),
    [
        ("hola", "es", True),
        ("hi", "en", True),
        ("¿Cuándo?", "es", True),
        ("ok", "en", False),
        ("cuando is my pago", "en", False),
        ("ya pagó el papá", "es", True),
        ("did he pay", "en", True),
    ],
)
def test_language_and_whether_it_is_clear(text: str, language: str, clear: bool) -> None:
    guess = detect_language(text)
    assert (guess.language, guess.clear) == (language, clear)
    assert (parse(text).language, parse(text).language_clear) == (language, clear)


# --- training -----------------------------------------------------------------------------------


def test_a_classifier_trains_on_other_data(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: greet\n  examples: |\n    - hello\n    - hi there\n    - hola\n"
        "- intent: thanks\n  examples: |\n    - thank you\n    - gracias\n    - thanks a lot\n"
        "- synonym: pymt\n  examples: |\n    - payment\n",
        encoding="utf-8",
    )
    trained = Classifier.from_path(path)
    assert trained.classify("hello there").intent is Intent.GREET
    assert trained.classify("muchas gracias").intent is Intent.THANKS
    assert abs(sum(trained.probabilities("hi").values()) - 1.0) < 1e-9


def test_an_intent_outside_the_design_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: weather\n  examples: |\n    - rain\n', encoding="utf-8")
    with pytest.raises(ValueError, match="weather"):
        Classifier.from_path(path)


def test_training_from_nlu_takes_well_under_a_second() -> None:
    # Measured around 0.3 s on the CI machine; the bound leaves room for a busy machine.
    start = time.perf_counter()
    Classifier.from_path(NLU)
    assert time.perf_counter() - start < 1.5


def test_the_default_classifier_is_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier, "_default", None)
    built: list[Classifier] = []
    barrier = threading.Barrier(4)

    def build() -> None:
        barrier.wait()
        built.append(classifier.load())

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 4 and all(found is built[0] for found in built)


# --- held-out quality (never trained or tuned on) ----------------------------------------------


def test_heldout_accuracy() -> None:
    predictions = heldout_predictions()
    accuracy = sum(example.intent == got for example, got in predictions) / len(predictions)
    assert accuracy >= MIN_HELDOUT_ACCURACY, f"{accuracy:.3f}"


def test_no_heldout_out_of_scope_text_is_taken_for_a_case_question() -> None:
    # The target holds on this set, but narrowly: cross-validation on nlu.yml still sends about 3 % of
    # out_of_scope texts to a case intent, so a new held-out text may well fail it.
    mistaken = [
        (example.text, got.value)
        for example, got in heldout_predictions()
        if example.intent is Intent.OUT_OF_SCOPE and got in CASE_INTENTS
    ]
    assert mistaken == []


def test_confident_answers_are_usually_right() -> None:
    confident = [(e, parse(e.text)) for e in load_examples(HELDOUT)]
    confident = [(e, p) for e, p in confident if p.confidence >= 0.8]
    right = sum(e.intent == p.intent for e, p in confident)
    assert len(confident) >= 100 and right / len(confident) >= 0.9


def test_parse_is_fast() -> None:
    texts = [e.text for e in load_examples(HELDOUT)]
    parse(texts[0])
    best = min(timeit.timeit(lambda: [parse(t) for t in texts], number=5) for _ in range(3))
    mean_us = best / (5 * len(texts)) * 1e6
    assert mean_us < 500, f"{mean_us:.1f} µs per text"
