"""consent: who may be texted, derived from an append-only ledger, and what a text asks of it.

Design
- `keywords`: whole-message STOP / START / HELP families, English and Spanish.
- `revocation`: plain-language "stop texting me" (and "no me manden más mensajes"), told apart from
  questions that merely contain such words; UNCLEAR when a careful reader could not tell.
- `ledger`: records consent events (opt-in, opt-out, help, verification) and derives a number's
  current state from them; nothing is ever updated or deleted.
- `policy`: the rules of COMPLIANCE.md as one pure function from (text, state) to a decision: what to
  record and whether an answer, a confirmation, an enrollment or verification prompt, or silence
  follows.
This package sits above storage/ and below bot/.
"""
