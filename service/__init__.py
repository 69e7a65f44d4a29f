"""noicutru: paperwork for Quy định 213-QĐ/TW."""
from __future__ import annotations

from typing import Any, Optional

from flask import Flask


def create_app(overrides: Optional[dict[str, Any]] = None) -> Flask:
    import os
    app = Flask(__name__, template_folder="html", instance_relative_config=True,
                instance_path=(overrides or {}).get("INSTANCE_DIR") or os.environ.get("NOICUTRU_INSTANCE_DIR") or None)
    from . import api_schema, config, db, errors, auth, jobs, storage, http_security, rate_limits
    from .safe_files import require_defusedxml
    require_defusedxml()
    from .views import register_blueprints

    config.load(app, overrides)
    db.init_app(app)
    storage.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)
    api_schema.init_app(app)  # before the routes: caps <int:...> ids
    register_blueprints(app)
    rate_limits.init_app(app)
    http_security.init_app(app)
    from .cli import register as register_cli
    register_cli(app)
    return app
