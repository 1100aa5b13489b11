"""The WSGI entry point gunicorn serves (`gunicorn bot.wsgi:app`)."""

from bot.app import create_app
from bot.settings import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback from every worker.
    raise SystemExit(f"bot: configuration error: {exc.format_message()}") from None
