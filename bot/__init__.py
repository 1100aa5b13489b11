"""bot: the conversation engine, its replies, outbound notices, and the app factory.

Design
- `create_app(overrides=None)` (in `app`) builds the Flask app: settings (`settings`), the shared
  services (`extensions`), the routes of the edges (webhooks/, dashboard/) and the CLI commands (`cli`).
- `wsgi` is what gunicorn serves; a configuration error stops it with one line.
- Layers, arrows pointing down: edges (webhooks/, dashboard/, CLI) -> bot -> consent/, intents/ ->
  storage/. Only `create_app` reaches up, to register the edges' blueprints, and it does so inside
  the function, as Flask's own tutorial does.
"""

from bot.app import create_app

__all__ = ["create_app"]
