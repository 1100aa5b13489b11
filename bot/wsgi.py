"""The WSGI entry point gunicorn serves (`gunicorn bot.wsgi:app`)."""

import gc

import intents
from bot.app import create_app
from bot.settings import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback from every worker.
    raise SystemExit(f"bot: configuration error: {exc.format_message()}") from None

# Train the intent classifier before the first text arrives (and, with --preload, once for all workers).
intents.load()

# What is loaded by now lives as long as the process: take it out of the collector's sight. A full
# collection walks every object (about 150,000 here: 70 ms, measured), and one that fell inside a text's
# hold on the exchange log's chain lock stalled every other worker's text with it (p99 634 ms at 200/s
# with 4 workers in bench/webhook_load.py). Frozen, a full collection only walks what requests made.
gc.freeze()
