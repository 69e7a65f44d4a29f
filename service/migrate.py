"""Alembic migrations run from the app's own engine (``noicutru db-upgrade``)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from . import db

HERE = Path(__file__).parent / "migrations"


def _config(connection) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(revision: str = "head") -> None:
    with db.engine().begin() as conn:
        command.upgrade(_config(conn), revision)


def autogenerate(message: str) -> None:
    with db.engine().begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
