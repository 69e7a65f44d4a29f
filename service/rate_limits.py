"""Request rates (Flask-Limiter): sign-in, uploads and the API, counted per client address.

Storage: ``NOICUTRU_RATELIMIT_STORAGE`` (``redis://host:port/db`` to share the counts between web
processes, ``memory://`` otherwise). Limits: ``NOICUTRU_RATELIMIT_LOGIN``, ``..._UPLOAD``, ``..._API`` in
the limits notation (e.g. ``30/minute``). Over a limit: 429 ``too_many_requests`` with ``Retry-After``.
Off under TESTING unless the test turns ``RATELIMIT_ENABLED`` on.

Failed sign-ins per account are a separate, stricter matter: see ``sign_in_throttle``.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LOGIN_ENDPOINTS = ("web.login",)
# every endpoint that accepts an uploaded file (pages and API)
UPLOAD_ENDPOINTS = ("imports.upload", "scans.index", "documents.templates",
                    "api.import_preview", "api.scans_upload", "api.templates_upload")


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered. One limiter per app (it holds its storage)."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "noicutru")
    # Redis unreachable: count in memory meanwhile rather than refuse every request (the sign-in
    # throttle does not depend on it: it lives in the database)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["noicutru_limiter"] = limiter
    for endpoints, setting, scope in ((LOGIN_ENDPOINTS, "RATELIMIT_LOGIN", "login"),
                                      (UPLOAD_ENDPOINTS, "RATELIMIT_UPLOAD", "upload")):
        limit = limiter.limit(_setting(setting), scope=scope, methods=["POST"])
        for endpoint in endpoints:
            app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    limiter.limit(_setting("RATELIMIT_API"), scope="api")(app.blueprints["api"])


def _setting(name: str):
    return lambda: current_app.config[name]
