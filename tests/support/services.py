"""What the tests need from this machine: PostgreSQL, redis-server, Chromium, LibreOffice.

With CI=true a missing one fails the test (CI must run everything); elsewhere the test is
skipped and says why.
"""
from __future__ import annotations

import os
from typing import Optional

import pytest
from sqlalchemy import create_engine, text

IN_CI = os.environ.get("CI") == "true"
PG_BASE = os.environ.get("NOICUTRU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_missing() -> Optional[str]:
    """None when PostgreSQL answers at PG_BASE, else why not."""
    try:
        eng = create_engine(PG_BASE)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # the reason is shown in the skip or the failure
        return f"PostgreSQL not reachable at {PG_BASE}: {exc.__class__.__name__}"


def require(missing: Optional[str]) -> None:
    """Fail (CI) or skip (elsewhere) when something the test needs is ``missing``."""
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {missing}")
        pytest.skip(reason=missing)
