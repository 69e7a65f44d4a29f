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
        # every uploaded .xlsx/.docx container (see docgen/container.py)
        ZIP_MAX_MEMBERS=int(os.environ.get("NOICUTRU_ZIP_MAX_MEMBERS", "1000")),
        ZIP_MAX_MEMBER_MB=float(os.environ.get("NOICUTRU_ZIP_MAX_MEMBER_MB", "20")),
        ZIP_MAX_TOTAL_MB=float(os.environ.get("NOICUTRU_ZIP_MAX_TOTAL_MB", "100")),
        ZIP_MAX_RATIO=int(os.environ.get("NOICUTRU_ZIP_MAX_RATIO", "200")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=int(os.environ.get("NOICUTRU_SESSION_MINUTES", "120"))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # the answer page a sheet's QR opens on a phone (e.g. https://noicutru.example.vn/tra-loi/qr);
        # empty: the QR holds the signed payload only (the shortest code, best on faxes)
        QR_LINK_BASE=os.environ.get("NOICUTRU_QR_LINK_BASE", ""),
        DEMO_MODE=os.environ.get("NOICUTRU_DEMO", "0") == "1",
        START_WORKER=os.environ.get("NOICUTRU_START_WORKER", "0") == "1",
        JOB_RUNNER=os.environ.get("NOICUTRU_JOB_RUNNER", "inprocess"),  # or "celery"
        JOB_MODULES=[m for m in os.environ.get("NOICUTRU_JOB_MODULES", "").split(",") if m.strip()],
        JOB_LEASE_SECONDS=int(os.environ.get("NOICUTRU_JOB_LEASE_SECONDS", "120")),
        JOB_SWEEP_SECONDS=float(os.environ.get("NOICUTRU_JOB_SWEEP_SECONDS", "15")),
        JOB_RETRY_SECONDS=float(os.environ.get("NOICUTRU_JOB_RETRY_SECONDS", "5")),
        STORAGE_URL=os.environ.get("NOICUTRU_STORAGE_URL", ""),  # s3://bucket/prefix (optional)
        # sign-in throttle (service/sign_in_throttle.py): failed attempts allowed per window
        SIGNIN_MAX_PER_ACCOUNT_ADDRESS=int(os.environ.get("NOICUTRU_SIGNIN_MAX_PER_ACCOUNT_ADDRESS", "5")),
        SIGNIN_MAX_PER_ADDRESS=int(os.environ.get("NOICUTRU_SIGNIN_MAX_PER_ADDRESS", "30")),
        SIGNIN_WINDOW_SECONDS=int(os.environ.get("NOICUTRU_SIGNIN_WINDOW_SECONDS", "900")),
        SIGNIN_MAX_PER_ACCOUNT=int(os.environ.get("NOICUTRU_SIGNIN_MAX_PER_ACCOUNT", "100")),
        SIGNIN_ACCOUNT_WINDOW_SECONDS=int(os.environ.get("NOICUTRU_SIGNIN_ACCOUNT_WINDOW_SECONDS", "3600")),
        SIGNIN_TRUST_DAYS=int(os.environ.get("NOICUTRU_SIGNIN_TRUST_DAYS", "60")),
        # request rates (Flask-Limiter, service/rate_limits.py); storage memory:// or redis://host:port/db
        RATELIMIT_ENABLED=os.environ.get("NOICUTRU_RATELIMIT_ENABLED", "1") == "1",
        RATELIMIT_STORAGE_URI=os.environ.get("NOICUTRU_RATELIMIT_STORAGE", "memory://"),
        RATELIMIT_LOGIN=os.environ.get("NOICUTRU_RATELIMIT_LOGIN", "30/minute"),
        RATELIMIT_UPLOAD=os.environ.get("NOICUTRU_RATELIMIT_UPLOAD", "60/hour"),
        RATELIMIT_API=os.environ.get("NOICUTRU_RATELIMIT_API", "600/minute"),
        # API tokens: default and longest lifetime in days
        TOKEN_DAYS_DEFAULT=int(os.environ.get("NOICUTRU_TOKEN_DAYS", "90")),
        TOKEN_DAYS_MAX=int(os.environ.get("NOICUTRU_TOKEN_DAYS_MAX", "365")),
        # behind a reverse proxy (number of proxies that set X-Forwarded-*) and Secure cookies (TLS)
        BEHIND_PROXY=int(os.environ.get("NOICUTRU_BEHIND_PROXY", "0")),
        SECURE_COOKIES=os.environ.get("NOICUTRU_SECURE_COOKIES", ""),  # "1"/"0"; default on behind a proxy
        PAGE_SIZE=50,
        ABSENCE_RULE=os.environ.get("NOICUTRU_ABSENCE_RULE", "1") == "1",
        # a receipt slip's date read with confidence and plausible is applied without a person (off: always
        # reviewed, the date pre-filled); off by default: held-out figures still show ~1 wrong date per 100
        SLIP_DATE_AUTO=os.environ.get("NOICUTRU_SLIP_DATE_AUTO", "0") == "1",
        SCAN_MAX_PAGES=int(os.environ.get("NOICUTRU_SCAN_MAX_PAGES", "500")),
        # An uploaded template renders in a child process with these limits (docgen/isolate.py).
        TEMPLATE_RENDER_SECONDS=float(os.environ.get("NOICUTRU_TEMPLATE_SECONDS", "30")),
        TEMPLATE_RENDER_MEMORY_MB=int(os.environ.get("NOICUTRU_TEMPLATE_MEMORY_MB", "512")),
        WTF_CSRF_TIME_LIMIT=None,
    )
    cfg["CELERY"] = celery_settings()
    cfg["SECRET_KEY"] = os.environ.get("NOICUTRU_SECRET_KEY") or _instance_secret(instance)
    if overrides:
        cfg.update(overrides)
    if cfg.get("TESTING") and not (overrides or {}).get("RATELIMIT_ENABLED"):
        cfg["RATELIMIT_ENABLED"] = False  # the suite is not throttled; tests of the limits turn them on
        for key in ("SIGNIN_MAX_PER_ACCOUNT_ADDRESS", "SIGNIN_MAX_PER_ADDRESS", "SIGNIN_MAX_PER_ACCOUNT"):
            cfg[key] = (overrides or {}).get(key, 10_000)
    secure = str(cfg["SECURE_COOKIES"]).strip().lower()
    cfg["SESSION_COOKIE_SECURE"] = secure in ("1", "true", "yes", "on") if secure else bool(cfg["BEHIND_PROXY"])


def celery_settings() -> dict:
    """Celery (JOB_RUNNER=celery): Redis broker, and settings for workers that may die at any time."""
    return dict(
        broker_url=os.environ.get("NOICUTRU_CELERY_BROKER", "redis://127.0.0.1:6379/0"),
        result_backend=os.environ.get("NOICUTRU_CELERY_RESULT_BACKEND") or None,  # results live in the database
        task_ignore_result=True,
        task_default_queue=os.environ.get("NOICUTRU_CELERY_QUEUE", "noicutru"),
        task_acks_late=True,  # a message is acknowledged after its task ran: a killed worker loses nothing
        task_reject_on_worker_lost=True,  # ... and a killed pool process gives its message back
        worker_prefetch_multiplier=1,  # a worker holds no more than it runs
        # unacknowledged messages go back to the queue after this (longer than any one task)
        broker_transport_options={"visibility_timeout": int(os.environ.get("NOICUTRU_CELERY_VISIBILITY", "3600"))},
        broker_connection_retry_on_startup=True,
        broker_connection_retry=True,
        broker_connection_max_retries=None,  # a restarted Redis is waited for, forever
        worker_cancel_long_running_tasks_on_connection_loss=False,  # the task finishes its database work
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 20, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3},
        worker_hijack_root_logger=False,
        task_serializer="json", accept_content=["json"],
    )


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


def replace_instance_secret(instance: Path) -> None:
    """A new session secret in the instance folder (``noicutru rotate-keys --session-secret``)."""
    path = instance / "secret_key"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(secrets.token_hex(32))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
