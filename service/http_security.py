"""Security headers on every response, and running behind a reverse proxy with TLS.

- Content-Security-Policy: only this site's own scripts, styles and images; no inline script, no inline
  style attribute, no framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``.
- ``NOICUTRU_BEHIND_PROXY=N``: trust N proxies' ``X-Forwarded-For/Proto/Host/Prefix`` (Werkzeug ProxyFix),
  so the client address (sign-in throttle, rate limits) and https links are right.
- ``NOICUTRU_SECURE_COOKIES``: cookies only over https (default on behind a proxy); adds HSTS.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("BEHIND_PROXY") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,  # type: ignore[method-assign]
                                x_prefix=proxies)

    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
