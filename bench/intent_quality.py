"""Benchmark: how well and how fast `intents.parse` reads participants' texts.

Trains the classifier from intents/nlu.yml (printing how long that takes), then measures it on
intents/heldout.yml, which is never trained or tuned on:

  accuracy, overall and per language     the language of each text as intents.language detects it
  a confusion table                      rows are the true intents, columns the predicted ones
  out_of_scope texts taken for a case    the costly mistake (a case intent is one of CASE_INTENTS),
  question                               each one listed
  confidence against accuracy            whether a confidence of 0.8 is right about 80 % of the time
  parse latency                          mean, p50 and p99 in µs over 20,000 timed calls of
                                         `intents.parse` on the held-out texts, pinned to one core

and, measured in the same run, a keyword baseline: the intent whose keywords (its name's words and
a few obvious ones, English and Spanish) appear most often in the text, else out_of_scope.
It ends with PASS or FAIL for each target: accuracy >= 0.90, no out_of_scope text taken for a case
question, p99 < 2 ms.

    .venv/bin/python bench/intent_quality.py            # the report (exit status 1 if a target fails)
    .venv/bin/python bench/intent_quality.py --tune     # choose DEFAULT_TUNING again, on nlu.yml only

--tune cross-validates on nlu.yml (5 folds, 3 shufflings): for each candidate of a small grid of
feature values it fits the temperature (least log-loss), then the out_of_scope ratio and the chat
threshold (the share of right answers less OOS_AS_CASE_COST for each out_of_scope text answered as a
case question; the smallest ratio within 0.25 % of the best wins, because in doubt out_of_scope is the
safe answer) and prints the best `Tuning` to copy into intents/classifier.py. It takes a minute or two.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import intents  # noqa: E402 (the path above must come first)
from intents.classifier import (  # noqa: E402
    CASE_INTENTS,
    DEFAULT_TUNING,
    NLU_PATH,
    Classifier,
    Example,
    Intent,
    Tuning,
    decide,
    load_examples,
    softmax,
    words,
)
from intents.language import detect_language, fold  # noqa: E402

HELDOUT_PATH = ROOT / "intents" / "heldout.yml"
MIN_ACCURACY = 0.90
MAX_P99_US = 2000.0
LATENCY_CALLS = 20_000
# An out_of_scope text answered as a case question costs this many questions left unanswered.
OOS_AS_CASE_COST = 5.0
SHORT = {
    Intent.NEXT_DUE_DATE: "due", Intent.LAST_PAYMENT: "last", Intent.NEXT_APPOINTMENT: "appt",
    Intent.PAYMENT_OPTIONS: "pay", Intent.OFFICE_INFO: "office", Intent.AGENT_REQUEST: "agent",
    Intent.UPDATE_INFO: "update", Intent.DOCUMENTS: "docs", Intent.GREET: "greet",
    Intent.THANKS: "thanks", Intent.HELP: "help", Intent.OUT_OF_SCOPE: "oos",
}

# --- the keyword baseline -----------------------------------------------------------------------

_BASELINE_KEYWORDS = {
    intent: frozenset(keywords.split())
    for intent, keywords in {
        Intent.NEXT_DUE_DATE: "due next date owe vence proximo siguiente fecha debo",
        Intent.LAST_PAYMENT: "last paid received get ultimo ultima recibieron pagado",
        Intent.NEXT_APPOINTMENT: "appointment court hearing judge cita corte audiencia juez",
        Intent.PAYMENT_OPTIONS: "pay options online card pagar opciones linea tarjeta",
        Intent.OFFICE_INFO: "office hours open address oficina horario abren direccion",
        Intent.AGENT_REQUEST: "agent person someone talk speak agente persona alguien hablar",
        Intent.UPDATE_INFO: "update change new moved actualizar cambiar nuevo nueva mude",
        Intent.DOCUMENTS: "documents copy order form papers documentos copia orden formulario papeles",
        Intent.GREET: "hi hello hey hola buenos buenas",
        Intent.THANKS: "thanks thank thx gracias",
        Intent.HELP: "help menu ayuda funciona",
    }.items()
}
_BASELINE_WORD = re.compile(r"[a-z0-9]+")


def keyword_baseline(text: str) -> Intent:
    """The intent with the most keyword hits in the text (first listed wins a tie), else out_of_scope."""
    found = _BASELINE_WORD.findall(fold(text))
    hits = {intent: sum(word in vocab for word in found) for intent, vocab in _BASELINE_KEYWORDS.items()}
    best = max(hits, key=hits.__getitem__)
    return best if hits[best] else Intent.OUT_OF_SCOPE


# --- measuring ----------------------------------------------------------------------------------


def evaluate(examples: Sequence[Example], predict: Callable[[str], Intent]) -> list[tuple[Example, Intent]]:
    """Pair every example with the predicted intent."""
    return [(example, predict(example.text)) for example in examples]


def accuracy(pairs: Sequence[tuple[Example, Intent]], language: str | None = None) -> tuple[float, int]:
    """Share of right answers (and how many texts), for one detected language or all."""
    chosen = [(e, p) for e, p in pairs if language is None or detect_language(e.text).language == language]
    return (sum(e.intent == p for e, p in chosen) / len(chosen) if chosen else math.nan), len(chosen)


def oos_as_case(pairs: Sequence[tuple[Example, Intent]]) -> list[tuple[Example, Intent]]:
    """The out_of_scope texts answered as a case question."""
    return [(e, p) for e, p in pairs if e.intent is Intent.OUT_OF_SCOPE and p in CASE_INTENTS]


def print_confusion(pairs: Sequence[tuple[Example, Intent]]) -> None:
    """Print the confusion table: rows are true intents, columns predicted ones."""
    counts = Counter((e.intent, p) for e, p in pairs)
    print("  true \\ predicted " + "".join(f"{SHORT[i]:>7}" for i in Intent) + "    n")
    for true in Intent:
        cells = "".join(f"{counts[(true, p)] or '.':>7}" for p in Intent)
        print(f"  {true.value:<17}{cells}{sum(counts[(true, p)] for p in Intent):>5}")


def print_calibration(classifier: Classifier, examples: Sequence[Example]) -> None:
    """Print, per band of confidence, how often the answer was right."""
    bands: defaultdict[int, list[bool]] = defaultdict(list)
    for example in examples:
        parsed = classifier.classify(example.text)
        bands[min(int(parsed.confidence * 5), 4)].append(parsed.intent == example.intent)
    for band in sorted(bands):
        right = bands[band]
        print(f"  confidence {band / 5:.1f}-{(band + 1) / 5:.1f}: {sum(right):>3} of {len(right):>3} right"
              f" ({sum(right) / len(right):.2f})")


def latencies_us(parse: Callable[[str], object], texts: Sequence[str], calls: int) -> list[float]:
    """Time every call separately, so p99 shows the slowest texts, not an average."""
    clock = time.perf_counter_ns
    samples = []
    for text in itertools.islice(itertools.cycle(texts), calls):
        start = clock()
        parse(text)
        samples.append((clock() - start) / 1000)
    return samples


def pin_to_one_core() -> str:
    """Run the rest of the process on one core, so the latency is one core's; say which."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity here)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def report() -> int:
    """Train, measure on the held-out set, print the report; return 0 when every target is met."""
    pinned = pin_to_one_core()
    start = time.perf_counter()
    classifier = Classifier.from_path(NLU_PATH)  # what `intents.load()` does on first use
    trained_ms = (time.perf_counter() - start) * 1000
    training = load_examples(NLU_PATH)
    heldout = load_examples(HELDOUT_PATH)
    print(f"trained on {NLU_PATH.relative_to(ROOT)} ({len(training)} examples) in {trained_ms:.0f} ms"
          f" (YAML read included)")
    languages = Counter(detect_language(e.text).language for e in heldout)
    print(f"held out: {HELDOUT_PATH.relative_to(ROOT)}, {len(heldout)} examples"
          f" ({languages['en']} en, {languages['es']} es by the language detector)\n")

    pairs = evaluate(heldout, lambda text: classifier.classify(text).intent)
    baseline = evaluate(heldout, keyword_baseline)
    overall = accuracy(pairs)[0]
    for name, result in (("classifier", pairs), ("keyword baseline", baseline)):
        per_language = "   ".join(
            f"{language} {accuracy(result, language)[0]:.3f}" for language in ("en", "es")
        )
        print(f"{name:<17} accuracy {accuracy(result)[0]:.3f}   {per_language}"
              f"   out_of_scope taken for a case question: {len(oos_as_case(result))}")
    print(f"classifier / baseline accuracy: {overall / accuracy(baseline)[0]:.2f}x\n")

    print("confusion (classifier):")
    print_confusion(pairs)
    mistakes = oos_as_case(pairs)
    total_oos = sum(e.intent is Intent.OUT_OF_SCOPE for e in heldout)
    print(f"\nout_of_scope texts taken for a case question: {len(mistakes)} of {total_oos}")
    for example, predicted in mistakes:
        print(f"  {example.text!r} -> {predicted.value}")
    wrong = [(e, p) for e, p in pairs if e.intent != p and (e, p) not in mistakes]
    print(f"other mistakes: {len(wrong)}")
    for example, predicted in wrong:
        print(f"  {example.text!r}: {example.intent.value} -> {predicted.value}")
    print("\nconfidence against accuracy (held out):")
    print_calibration(classifier, heldout)

    intents.load()  # train the default classifier first: a running app has done so at start-up
    samples = latencies_us(intents.parse, [e.text for e in heldout], LATENCY_CALLS)
    p99 = statistics.quantiles(samples, n=100, method="inclusive")[98]
    print(f"\nparse latency ({len(samples)} calls over the held-out texts, {pinned}):"
          f" mean {statistics.fmean(samples):.1f} µs, p50 {statistics.median(samples):.1f} µs,"
          f" p99 {p99:.1f} µs, max {max(samples):.1f} µs")

    targets = [
        (f"accuracy {overall:.3f} >= {MIN_ACCURACY}", overall >= MIN_ACCURACY),
        (f"out_of_scope taken for a case question: {len(mistakes)} == 0", not mistakes),
        (f"parse p99 {p99:.0f} µs < {MAX_P99_US:.0f} µs", p99 < MAX_P99_US),
    ]
    print()
    for label, met in targets:
        print(f"{'PASS' if met else 'FAIL'}  {label}")
    return 0 if all(met for _, met in targets) else 1


# --- tuning on nlu.yml by cross-validation ------------------------------------------------------

Scored = list[tuple[Example, list[float]]]


def cross_validate(examples: Sequence[Example], tuning: Tuning, folds: int = 5, repeats: int = 3) -> Scored:
    """Return (example, scores) for every example and shuffling, scored by a model trained without its fold.

    Folds are stratified by intent, so each holds its share of every intent.
    """
    by_intent: defaultdict[Intent, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_intent[example.intent].append(index)
    results: Scored = []
    for repeat in range(repeats):
        shuffler = random.Random(repeat)
        fold_of = {}
        for indexes in by_intent.values():
            shuffled = indexes[:]
            shuffler.shuffle(shuffled)
            fold_of.update({index: position % folds for position, index in enumerate(shuffled)})
        for k in range(folds):
            model = Classifier([e for i, e in enumerate(examples) if fold_of[i] != k], tuning)
            results.extend(
                (e, model.scores(words(e.text))) for i, e in enumerate(examples) if fold_of[i] == k
            )
    return results


def _gain(example: Example, predicted: Intent) -> float:
    if predicted == example.intent:
        return 1.0
    if example.intent is Intent.OUT_OF_SCOPE and predicted in CASE_INTENTS:
        return -OOS_AS_CASE_COST
    return 0.0


def calibrate(scored: Scored, tuning: Tuning) -> tuple[Tuning, float]:
    """Fit the temperature (least log-loss), the ratio and the chat threshold; return the tuning, its utility.

    The utility is the share of examples answered right, less OOS_AS_CASE_COST for each out_of_scope
    text answered as a case question.
    """
    intents = tuple(Intent)

    def log_loss(temperature: float) -> float:
        return -sum(
            math.log(max(softmax(scores, temperature)[intents.index(e.intent)], 1e-12))
            for e, scores in scored
        )

    temperature = min((0.2 * 1.1**k for k in range(50)), key=log_loss)
    # A decision only chooses between the likeliest intent and out_of_scope.
    out_of_scope = intents.index(Intent.OUT_OF_SCOPE)
    tops = []
    for example, scores in scored:
        probabilities = softmax(scores, temperature)
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        tops.append((example, intents[best], probabilities[best], probabilities[out_of_scope]))

    def case_utility(ratio: float) -> float:
        return sum(
            _gain(e, Intent.OUT_OF_SCOPE if oos >= ratio * p else top)
            for e, top, p, oos in tops
            if top in CASE_INTENTS
        )

    def chat_utility(threshold: float) -> float:
        return sum(
            _gain(e, top if p >= threshold else Intent.OUT_OF_SCOPE) for e, top, p, _ in tops if top in chat
        )

    chat = frozenset(Intent) - CASE_INTENTS - {Intent.OUT_OF_SCOPE}
    candidates = [k / 100 for k in range(1, 100)]
    # Case and chat intents never compete for one example, so each is fitted alone. In doubt
    # out_of_scope is the safe answer to a case question: the smallest ratio within 0.25 % of the best
    # utility is taken. Answering greet, thanks or help by mistake is harmless: their best threshold.
    best_case = max(case_utility(r) for r in candidates)
    ratio = min(r for r in candidates if case_utility(r) >= best_case - 0.0025 * len(scored))
    chat_threshold = max(candidates, key=chat_utility)
    tuned = replace(tuning, temperature=round(temperature, 3), out_of_scope_ratio=ratio,
                    chat_threshold=chat_threshold)
    total = case_utility(ratio) + chat_utility(chat_threshold) + sum(
        _gain(e, top) for e, top, _, _ in tops if top is Intent.OUT_OF_SCOPE
    )
    return tuned, total / len(scored)


TUNING_GRID = {
    "char_weight": (0.5, 0.7),
    "unknown_weight": (0.5, 1.0),
    "out_of_scope_weight": (1.0, 1.5, 2.0),
}


def tune() -> int:
    """Search TUNING_GRID by cross-validation on nlu.yml and print the best tuning."""
    examples = load_examples(NLU_PATH)
    results = []
    for values in itertools.product(*TUNING_GRID.values()):
        candidate = replace(DEFAULT_TUNING, **dict(zip(TUNING_GRID, values, strict=True)))
        scored = cross_validate(examples, candidate)
        tuned, utility = calibrate(scored, candidate)
        decided = [(e, decide(softmax(s, tuned.temperature), tuned)[0]) for e, s in scored]
        right = sum(e.intent == got for e, got in decided)
        case = len(oos_as_case(decided))
        results.append((utility, tuned))
        print(f"utility {utility:.4f}  accuracy {right / len(scored):.3f}  oos->case {case}  {tuned}")
    utility, best = max(results, key=lambda result: result[0])
    print(f"\nbest (utility {utility:.4f}):\n{best}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the report, or the tuning with --tune."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tune", action="store_true", help="choose the tuning by cross-validation on nlu.yml"
    )
    args = parser.parse_args(argv)
    return tune() if args.tune else report()


if __name__ == "__main__":
    sys.exit(main())
