"""Storage: the lowest layer, everything the product keeps.

Design
- `models` holds the SQLAlchemy 2 tables. Nothing personal is stored in the clear: phone numbers and
  message bodies are encrypted with `crypto.DataCipher` (keys from DATA_KEYS, newest first) and found
  again through a keyed hash. No names, SSNs, dates of birth or addresses are kept at all.
- `database.Database` owns one engine and its sessions; callers pass sessions in explicitly.
- `schema` applies the Alembic migrations in ../migrations (the app never changes the schema itself).
- The CSV importers (`case_import`, `payment_import`, `consent_import`, `appointment_import`) check a
  whole file first (`csv_rows`, `fields`) and write nothing unless every row is good.

This package imports nothing from the packages above it (consent, intents, bot, webhooks, dashboard).
"""
