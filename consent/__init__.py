"""consent: who may be texted, derived from an append-only ledger, and what a text asks of it.

Design
- `folding`: what a reader sees: look-alike letters of other scripts (Unicode confusables), styled and
  small-capital letters made plain Latin, accents, invisible and control characters dropped.
- `spelling`: one-edit misspellings of the opt-out words, unless a common English/Spanish word is meant.
- `keywords`: whole-message STOP / START / HELP families, English and Spanish, read through `folding`,
  with letters spaced or dotted out, digits as letters and misspelled opt-out words.
- `requests`: plain-language requests for help and for texts (again).
- `revocation`: plain-language "stop texting me" (and "no me manden más mensajes"), told apart from
  questions that merely contain such words; UNCLEAR when a careful reader could not tell.
- `ledger`: records consent events (opt-in, opt-out, help, verification) and derives a number's
  current state from them; nothing is ever updated or deleted.
- `policy`: the rules of COMPLIANCE.md as one pure function from (text, state) to a decision: what to
  record and whether an answer, a confirmation, an enrollment or verification prompt, or silence
  follows.
This package sits above storage/ and below bot/.
"""
