"""noicutru: paperwork for Quy định 213-QĐ/TW."""
from __future__ import annotations

import importlib
from typing import Any, Optional

from flask import Flask

# features that declare job kinds: each package has a register_jobs()
FEATURES_WITH_JOBS = ("importing", "documents", "scans")
# the pages of each feature: module with a blueprint ``bp`` (the JSON API is registered by service.api)
PAGE_MODULES = ("web", "members.views", "organisations.views", "importing.views", "jobs.views", "users.views",
                "documents.views", "scans.views", "scans.transcriptions", "meetings.views", "users.account",
                "digital.views", "reports.views", "campaigns.views", "guide")


def create_app(overrides: Optional[dict[str, Any]] = None) -> Flask:
    import os
    app = Flask(__name__, template_folder="html", instance_relative_config=True,
                instance_path=(overrides or {}).get("INSTANCE_DIR") or os.environ.get("NOICUTRU_INSTANCE_DIR") or None)
    from . import api_schema, config, db, errors, auth, storage, http_security, rate_limits
    from . import jobs
    from .safe_files import require_defusedxml
    require_defusedxml()

    config.load(app, overrides)
    db.init_app(app)
    storage.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    for feature in FEATURES_WITH_JOBS:  # the feature -> jobs arrow points one way only
        importlib.import_module(f"{__name__}.{feature}").register_jobs()
    jobs.init_app(app)
    api_schema.init_app(app)  # before the routes: caps <int:...> ids
    _register_blueprints(app)
    rate_limits.init_app(app)
    http_security.init_app(app)
    from .cli import register as register_cli
    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    for name in PAGE_MODULES:
        app.register_blueprint(importlib.import_module(f"{__name__}.{name}").bp)
    from . import api, display, guide
    api.register(app)
    display.init_app(app)
    guide.init_app(app)
