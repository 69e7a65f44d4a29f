"""Blueprints: one per feature."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import jobs
    from .. import api
    from .. import web
    from ..organisations import views as organisations
    from ..importing import views as imports
    from ..users import views as users
    from ..documents import views as documents
    from ..scans import views as scans
    from ..meetings import views as meetings
    from ..users import account
    from ..members import views as members
    for module in (web, members, organisations, imports, jobs, users, documents, scans, meetings, account):
        app.register_blueprint(module.bp)
    api.register(app)
    from .. import display
    display.init_app(app)
