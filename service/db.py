"""Database engine and session handling (plain SQLAlchemy 2, one engine per app)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no branch
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_request
    def _close_request_session(_exc):
        sess = request.environ.pop("noicutru.db_session", None)
        if sess is not None:
            sess.close()

    @app.teardown_appcontext
    def _close_session(_exc):
        sess = g.pop("db_session", None)
        if sess is not None:
            sess.close()


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of the current request, or else of the app context (a CLI command, a job)."""
    if has_request_context():
        sess = request.environ.get("noicutru.db_session")
        if sess is None:
            sess = request.environ["noicutru.db_session"] = current_app.extensions["db_sessionmaker"]()
        return sess
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


@contextlib.contextmanager
def new_session() -> Iterator[Session]:
    """A short-lived session of its own (used by job workers), committed on success."""
    sess: Session = current_app.extensions["db_sessionmaker"]()
    try:
        yield sess
        sess.commit()
    except BaseException:
        sess.rollback()
        raise
    finally:
        sess.close()
