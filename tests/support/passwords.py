"""Test passwords' stored hashes, computed once per password (scrypt is slow on purpose); signing
in still checks the password against the stored hash."""
from __future__ import annotations

import functools

from service.auth import hash_password


@functools.lru_cache(maxsize=None)
def password_hash_for(password: str) -> str:
    return hash_password(password)
