"""The WSGI entry point gunicorn serves (`gunicorn bot.wsgi:app`)."""

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
