"""Request rates (Flask-Limiter): sign-in and uploads counted per client address, the API per user
(per address when anonymous), so one office behind one NAT address is not throttled as one.

Storage: ``NOICUTRU_RATELIMIT_STORAGE`` (``redis://host:port/db`` to share the counts between web
processes, ``memory://`` otherwise). Limits: ``NOICUTRU_RATELIMIT_LOGIN``, ``..._UPLOAD``, ``..._API`` in
the limits notation (e.g. ``30/minute``). Over a limit: 429 ``too_many_requests`` with ``Retry-After``.
Off under TESTING unless the test turns ``RATELIMIT_ENABLED`` on.

Failed sign-ins per account are a separate, stricter matter: see ``sign_in_throttle``.
"""
from __future__ import annotations

from flask import Flask, current_app, g, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# sign-in, and the one-time answer codes of the digital path (guessing is counted like passwords)
LOGIN_ENDPOINTS = ("web.login", "digital.enter")
# every endpoint that accepts an uploaded file (pages and API)
UPLOAD_ENDPOINTS = ("imports.upload", "scans.index", "documents.templates",
                    "api.importing.import_preview", "api.scans.scans_upload",
                    "api.documents.templates_upload")


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
    limiter.limit(_setting("RATELIMIT_API"), scope="api", key_func=api_caller)(app.blueprints["api"])


def api_caller() -> str:
    """Who calls the API: the token's or the signed session's user, else the client address."""
    token = g.get("bearer_token")  # set by auth for a valid token
    if token is not None:
        return f"user:{token.user_id}"
    user_id = session.get("_user_id")  # the cookie is signed: it cannot be made up
    return f"user:{user_id}" if user_id else f"address:{get_remote_address()}"


def _setting(name: str):
    return lambda: current_app.config[name]
