"""Plain-language revocation: the labelled examples, the trap questions, and held-out quality."""

from __future__ import annotations

import csv
import re
import timeit
from collections import Counter
from pathlib import Path

import pytest

from consent import revocation
from consent.keywords import KEYWORDS, Keyword, KeywordFamily, normalise
from consent.revocation import Revocation, Verdict, classify_revocation

EXAMPLES = Path(__file__).resolve().parents[2] / "consent" / "revocation_examples.tsv"
# Held-out thresholds for REVOKE, from the brief; the held-out lines were never tuned on.
MIN_HELDOUT_PRECISION = 0.95
MIN_HELDOUT_RECALL = 0.85


def load(split: str | None = None) -> list[dict[str, str]]:
    with EXAMPLES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row for row in rows if split is None or row["split"] == split]


DEV = load("dev")


# --- the examples file ---------------------------------------------------------------------------


def test_examples_file_is_well_formed() -> None:
    rows = load()
    assert len(rows) >= 150
    for row in rows:
        assert set(row) == {"text", "label", "language", "split"}, row
        assert row["text"].strip(), row
        assert row["label"] in {v.value for v in Verdict}, row
        assert row["language"] in {"en", "es"}, row
        assert row["split"] in {"dev", "heldout"}, row
    texts = [row["text"].casefold() for row in rows]
    assert len(texts) == len(set(texts)), "an example appears twice (maybe in both splits)"


def test_examples_are_balanced_like_the_brief_asks() -> None:
    rows = load()
    labels = Counter(row["label"] for row in rows)
    assert 0.35 <= labels["revoke"] / len(rows) <= 0.50
    assert 0.35 <= labels["not_revoke"] / len(rows) <= 0.50
    assert 0.10 <= labels["unclear"] / len(rows) <= 0.20
    assert sum(row["split"] == "heldout" for row in rows) * 3 >= len(rows)
    for split in ("dev", "heldout"):
        seen = Counter((r["label"], r["language"]) for r in rows if r["split"] == split)
        for label in ("revoke", "not_revoke", "unclear"):
            for language in ("en", "es"):
                assert seen[(label, language)] > 0, (split, label, language)


@pytest.mark.parametrize("row", DEV, ids=[row["text"] for row in DEV])
def test_dev_example_is_classified_as_labelled(row: dict[str, str]) -> None:
    assert classify_revocation(row["text"]).verdict.value == row["label"]


def test_heldout_revoke_precision_and_recall() -> None:
    rows = load("heldout")
    predicted = [classify_revocation(row["text"]).verdict for row in rows]
    revoked = [row["label"] == "revoke" for row in rows]
    true_positive = sum(p is Verdict.REVOKE and r for p, r in zip(predicted, revoked, strict=True))
    predicted_revoke = sum(p is Verdict.REVOKE for p in predicted)
    assert predicted_revoke, "nothing in the held-out split was classified as a revocation"
    precision = true_positive / predicted_revoke
    recall = true_positive / sum(revoked)
    assert precision >= MIN_HELDOUT_PRECISION, f"precision {precision:.3f}"
    assert recall >= MIN_HELDOUT_RECALL, f"recall {recall:.3f}"


# --- named behaviour ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "when does my support order end",
        "how do I cancel autopay",
        "can i stop paying if my kid turns 18",
        "how do i end my case",
        "quit my job do i still pay",
        "cuando termina mi orden de manutencion",
        "cuándo termina mi orden de manutención?",
        "how do i terminate child support",
        "puedo parar los pagos si mi hijo cumple 18",
        "quiero cancelar mi plan de pagos",
        "stop the garnishment please i paid in full",
        "stop sending letters to my old address",
        "no me manden cartas a mi direccion vieja",
        "quiero dar de baja mi caso",
        "el pago es muy alto",
        "i got a text saying my payment was late",
        "can i opt out of the wage withholding",
        "take me off child support",
    ],
)
def test_trap_questions_do_not_revoke(text: str) -> None:
    assert classify_revocation(text).verdict is Verdict.NOT_REVOKE


@pytest.mark.parametrize(
    "text",
    [
        "pls stop txting me",
        "take me off this list",
        "dont text me anymore",
        "no me manden más mensajes",
        "no me manden mas mensajes",
        "ya no quiero recibir mensajes",
        "unsubscribe me",
        "stop sending me these",
        "STOPPP TEXTING MEEE!!!",
        "plz stp txtin me",
        "can you please stop texting me?",
        "Stop. I already paid",
        "quítenme de la lista",
        "darme de baja por favor",
        "dejen de mandarme mensajes",
        "wrong number",
    ],
)
def test_plain_language_revocations(text: str) -> None:
    assert classify_revocation(text).verdict is Verdict.REVOKE


@pytest.mark.parametrize(
    "text",
    [
        "i want to cancel it",
        "i want to cancel",
        "basta ya",
        "basta",
        "how do i stop these texts",
        "how do i unsubscribe",
        "como dejo de recibir estos mensajes",
        "ok cancel?",
    ],
)
def test_ambiguous_messages_are_unclear(text: str) -> None:
    assert classify_revocation(text).verdict is Verdict.UNCLEAR


def test_no_mas_alone_revokes_but_questions_about_more_payments_do_not() -> None:
    # COMPLIANCE.md names "no más" as wording that revokes, so alone it is the NO MÁS keyword.
    assert classify_revocation("no mas").verdict is Verdict.REVOKE
    assert classify_revocation("no más, ya pagué").verdict is Verdict.REVOKE
    assert classify_revocation("no mas pagos?").verdict is Verdict.NOT_REVOKE


def test_asking_to_keep_texts_is_not_a_revocation() -> None:
    assert classify_revocation("dont stop texting me, it helps").verdict is Verdict.NOT_REVOKE
    assert classify_revocation("no dejen de mandarme mensajes").verdict is Verdict.NOT_REVOKE
    assert classify_revocation("text me when the payment comes in").verdict is Verdict.NOT_REVOKE


@pytest.mark.parametrize("keyword", KEYWORDS, ids=lambda k: k.word)
def test_bare_keywords_agree_with_the_keyword_module(keyword: Keyword) -> None:
    result = classify_revocation(f" {keyword.word.lower()}! ")
    expected = Verdict.REVOKE if keyword.family is KeywordFamily.OPT_OUT else Verdict.NOT_REVOKE
    assert result == Revocation(expected, keyword.language, f"keyword:{keyword.family.value}")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("please stop texting me", "en"),
        ("no me manden mas mensajes", "es"),
        ("ya no quiero recibir mensajes", "es"),
        ("when does my support order end", "en"),
    ],
)
def test_language_is_reported_when_evident(text: str, language: str) -> None:
    assert classify_revocation(text).language == language


@pytest.mark.parametrize("text", ["", "   ", "🙏🙏", "..."])
def test_empty_messages_do_not_revoke(text: str) -> None:
    assert classify_revocation(text) == Revocation(Verdict.NOT_REVOKE, None, "empty")


def test_reason_never_carries_user_text() -> None:
    secret = "zyxwvu"
    for template in ("stop texting me {}", "{} when does my order end", "{} stop this", "{}"):
        reason = classify_revocation(template.format(secret)).reason
        assert secret not in reason
        assert re.fullmatch(r"[a-z_]+(?::[a-z_]+)?", reason), reason


# --- internals that the speed depends on --------------------------------------------------------


def test_trigger_words_never_hide_a_rule() -> None:
    # A rule is skipped when its clause lacks all its trigger words; that must never skip a match.
    texts = [row["text"] for row in load()] + [
        "numero equivocado",
        "se equivocaron de numero",
        "can you not text me",
        "i no longer want to be contacted",
        "den de baja mi numero",
        "me salgo de la lista",
        "opt me out",
        "cancelar mi suscripcion",
        "i told you to stop",
        "yes keep the alerts coming",
    ]
    checked = 0
    for text in texts:
        clauses, _ = revocation._clauses(text, normalise(text))
        for clause, _, tokens in clauses:
            for rule in (*revocation._RULES, revocation._WANTS_TEXTS):
                if rule.pattern.search(clause):
                    checked += 1
                    assert rule.triggers is None or not rule.triggers.isdisjoint(tokens), (
                        rule.name,
                        clause,
                    )
    assert checked > 100


def test_classification_is_fast() -> None:
    # The webhook classifies every inbound text; the brief allows 50 µs a message. Best of five
    # rounds so that a busy machine does not fail the test; the usual mean is about 10 µs.
    texts = [row["text"] for row in load()]
    best = min(timeit.timeit(lambda: [classify_revocation(t) for t in texts], number=20) for _ in range(5))
    mean_us = best / (20 * len(texts)) * 1e6
    assert mean_us < 50, f"{mean_us:.1f} µs per message"


@pytest.mark.parametrize("text", ["no", "No.", "nope", "no thanks", "No gracias", "no, no"])
def test_no_answering_the_keep_texting_question_revokes(text: str) -> None:
    assert classify_revocation(text).verdict is not Verdict.REVOKE
    assert classify_revocation(text, answering_keep_question=True).verdict is Verdict.REVOKE


@pytest.mark.parametrize("text", ["no problem", "no, when is my payment due", "yes"])
def test_other_answers_to_the_keep_texting_question_are_not_a_no(text: str) -> None:
    assert classify_revocation(text, answering_keep_question=True).reason != "answer:no"
