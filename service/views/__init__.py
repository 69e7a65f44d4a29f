"""Blueprints: one per feature."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import web, organisations, imports, jobs, users, documents, scans, meetings, api, account
    from ..members import views as members
    for module in (web, members, organisations, imports, jobs, users, documents, scans, meetings, account):
        app.register_blueprint(module.bp)
    api.register(app)
    from . import display
    display.init_app(app)
