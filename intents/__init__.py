"""intents: what a participant's text asks, in English or Spanish, from an embedded classifier.

Design
- `nlu.yml`: the training examples, in Rasa's NLU YAML format so an agency can train Rasa on the same
  data; its header says which intent a borderline text belongs to and what is out of scope.
  `heldout.yml`: examples in the same format that are never trained or tuned on; bench/intent_quality.py
  and tests/intents measure the classifier on them.
- `classifier`: `parse(text) -> Parse(intent, confidence, language, language_clear)`, a softmax
  regression over typo-tolerant features, trained from nlu.yml on first use (or at start-up through
  `load()`), in pure Python: no network, no model file. In doubt, the answer is out_of_scope.
- `language`: English or Spanish from marker words and accents, and whether the text makes it clear.
This package sits beside consent/ and below bot/, and imports neither of them.
"""

from intents.classifier import CASE_INTENTS, Classifier, Intent, Parse, load, parse
from intents.language import LanguageGuess, detect_language

__all__ = [
    "CASE_INTENTS",
    "Classifier",
    "Intent",
    "LanguageGuess",
    "Parse",
    "detect_language",
    "load",
    "parse",
]
