"""The dashboard's Blueprint: pages under /dashboard/, its templates, and its static files."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)
