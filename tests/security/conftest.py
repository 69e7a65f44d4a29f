"""Helpers for the security tests: an app with the limits switched on, and sign-ins from a chosen address."""
from __future__ import annotations

import pytest

from service import db
from tests.support.passwords import password_hash_for
from service.models import User

PASSWORD = "mat-khau-dai-1"


@pytest.fixture
def limited_app(app, app_factory, tmp_path):
    """Another app on the same backend as ``app``, with the given settings (e.g. the throttle on)."""
    made = []

    def _make(**overrides):
        other = app_factory(tmp_path / f"limited{len(made)}", app.backend, **overrides)
        made.append(other)
        return other
    yield _make
    for other in made:
        with other.app_context():
            db.engine().dispose()


def add_user(application, username: str, role: str = "admin", password: str = PASSWORD) -> int:
    with application.app_context():
        s = db.session()
        user = User(username=username, full_name=username.title(), role=role, password_hash=password_hash_for(password))
        s.add(user)
        s.commit()
        return user.id


def sign_in(client, username: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})
