"""Configuration: defaults, then environment variables prefixed NOICUTRU_ (and DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path


def load(app, overrides: dict | None = None) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    cfg = app.config
    cfg.update(
        DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'noicutru.sqlite3'}",
        STORAGE_DIR=os.environ.get("NOICUTRU_STORAGE_DIR") or str(instance / "storage"),
        MAX_CONTENT_LENGTH=int(os.environ.get("NOICUTRU_MAX_UPLOAD_MB", "300")) * 1024 * 1024,
        IMPORT_MAX_BYTES=int(os.environ.get("NOICUTRU_IMPORT_MAX_MB", "10")) * 1024 * 1024,
        IMPORT_MAX_ROWS=int(os.environ.get("NOICUTRU_IMPORT_MAX_ROWS", "20000")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=int(os.environ.get("NOICUTRU_SESSION_MINUTES", "120"))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        DEMO_MODE=os.environ.get("NOICUTRU_DEMO", "0") == "1",
        START_WORKER=os.environ.get("NOICUTRU_START_WORKER", "0") == "1",
        JOB_RUNNER=os.environ.get("NOICUTRU_JOB_RUNNER", "inprocess"),
        LOGIN_DELAY_BASE=float(os.environ.get("NOICUTRU_LOGIN_DELAY", "0.5")),
        PAGE_SIZE=50,
        ABSENCE_RULE=os.environ.get("NOICUTRU_ABSENCE_RULE", "1") == "1",
        SCAN_MAX_PAGES=int(os.environ.get("NOICUTRU_SCAN_MAX_PAGES", "500")),
        WTF_CSRF_TIME_LIMIT=None,
    )
    cfg["SECRET_KEY"] = os.environ.get("NOICUTRU_SECRET_KEY") or _instance_secret(instance)
    if overrides:
        cfg.update(overrides)


def _instance_secret(instance: Path) -> str:
    """A secret key made once per installation and kept in the instance folder."""
    path = instance / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic: the first writer wins
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
