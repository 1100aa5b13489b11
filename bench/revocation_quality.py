"""Benchmark: how well and how fast `classify_revocation` reads plain-language revocations.

For each split of consent/revocation_examples.tsv (dev: the rules were tuned on it; heldout: never
tuned on) it prints, for the rule classifier and for a naive baseline measured in the same run:

  precision and recall for REVOKE   (an UNCLEAR prediction counts as "not REVOKE" here)
  revoke -> UNCLEAR                  revocations left for the caller's one clarifying question
  not_revoke -> REVOKE               the costly error: a participant silenced for asking a question
  a 3x3 confusion table              rows are labels, columns are predictions
  mean and p99 time per call in µs   each message classified many times, each call timed alone

The baseline says REVOKE when any opt-out keyword appears anywhere in the message as a word
("when does my order end" included) and NOT_REVOKE otherwise: what a keyword filter without this
component would do.

Run from the repository root:

    .venv/bin/python bench/revocation_quality.py
    .venv/bin/python bench/revocation_quality.py --repeat 500

It always exits 0: the thresholds are enforced by tests/consent/test_revocation.py.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "consent" / "revocation_examples.tsv"
LABELS = ("revoke", "not_revoke", "unclear")


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    label: str
    language: str
    split: str


def load_examples(path: Path = EXAMPLES) -> list[Example]:
    """Read the labelled examples file."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(r["text"], r["label"], r["language"], r["split"]) for r in reader]


def naive_classifier() -> Callable[[str], str]:
    """Build the baseline: any opt-out keyword anywhere in the message, as a word, revokes."""
    from consent.keywords import KEYWORDS, KeywordFamily, normalise

    words = sorted(
        {normalise(k.word) for k in KEYWORDS if k.family is KeywordFamily.OPT_OUT},
        key=len,
        reverse=True,
    )
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")

    def classify(text: str) -> str:
        return "revoke" if pattern.search(normalise(text)) else "not_revoke"

    return classify


def rule_classifier() -> Callable[[str], str]:
    """Wrap `classify_revocation` to return the label string."""
    from consent.revocation import classify_revocation

    def classify(text: str) -> str:
        return classify_revocation(text).verdict.value

    return classify


def timings_us(classify: Callable[[str], str], texts: list[str], repeat: int) -> list[float]:
    """Time every call separately, so p99 shows the slowest messages, not an average."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(repeat):
        for text in texts:
            start = clock()
            classify(text)
            samples.append((clock() - start) / 1000)
    return samples


def p99(samples: list[float]) -> float:
    """The 99th percentile of the samples."""
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def report(name: str, classify: Callable[[str], str], rows: list[Example], repeat: int) -> None:
    """Print quality and speed of one classifier on one split."""
    pairs = [(row.label, classify(row.text)) for row in rows]
    confusion = Counter(pairs)
    true_positive = confusion[("revoke", "revoke")]
    predicted = sum(n for (_, got), n in confusion.items() if got == "revoke")
    actual = sum(n for (label, _), n in confusion.items() if label == "revoke")
    precision = true_positive / predicted if predicted else float("nan")
    recall = true_positive / actual if actual else float("nan")
    samples = timings_us(classify, [row.text for row in rows], repeat)

    print(f"  {name}")
    print(f"    REVOKE precision {precision:.3f}  recall {recall:.3f}"
          f"  ({true_positive} of {predicted} predicted, {actual} labelled)")
    print(f"    revoke -> unclear: {confusion[('revoke', 'unclear')]}"
          f"   not_revoke -> REVOKE (costly): {confusion[('not_revoke', 'revoke')]}"
          f"   unclear -> REVOKE: {confusion[('unclear', 'revoke')]}")
    print("    " + "label / predicted".ljust(20) + "".join(f"{label:>12}" for label in LABELS))
    for label in LABELS:
        cells = "".join(f"{confusion[(label, got)]:>12}" for got in LABELS)
        print(f"    {label:<20}{cells}")
    print(f"    time per call: mean {statistics.fmean(samples):.1f} µs,"
          f" p99 {p99(samples):.1f} µs  ({len(samples)} calls)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark over every split and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="times each message is timed")
    args = parser.parse_args(argv)

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    classifiers = {"rules": rule_classifier(), "naive keyword-anywhere baseline": naive_classifier()}

    examples = load_examples()
    for split in ("heldout", "dev"):
        rows = [row for row in examples if row.split == split]
        labels = Counter(row.label for row in rows)
        print(f"{split}: {len(rows)} examples "
              + ", ".join(f"{labels[label]} {label}" for label in LABELS))
        for name, classify in classifiers.items():
            report(name, classify, rows, args.repeat)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
