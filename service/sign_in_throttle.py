"""Sign-in throttling with atomic failure counters kept in the database.

Three counters, each a fixed window (one row per key, see models.SignInThrottle):

- per (account, client address): few guesses; this is what stops one attacker guessing one account;
- per client address: guesses at any accounts from one address;
- per account: a generous ceiling against guesses from many addresses. It does not apply to an address
  from which this account signed in successfully before (a trusted address), so the real user can still
  sign in from the office while someone elsewhere guesses.

An attempt takes its place in every counter with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
before the password is checked (atomic on SQLite and PostgreSQL), so parallel guesses cannot get past
the limit; an attempt over a limit is answered 429 with ``Retry-After`` at once (nobody sleeps) and gives
its place back. A successful sign-in resets the (account, address) counter and gives back its place in
the other two, which therefore count failures only.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math

from sqlalchemy import DateTime, Integer, bindparam, delete, or_, text
from sqlalchemy.engine import Engine

from .errors import ServiceError
from .models import SignInThrottle, utcnow

TRUSTED = "ok:"


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str  # pair, address, account
    limit: int  # attempts allowed in one window
    window: int  # seconds


def rules(config) -> list[Rule]:
    # the address first: once it is full, its attempts make no new rows for made-up account names
    return [Rule("address", config["SIGNIN_MAX_PER_ADDRESS"], config["SIGNIN_WINDOW_SECONDS"]),
            Rule("pair", config["SIGNIN_MAX_PER_ACCOUNT_ADDRESS"], config["SIGNIN_WINDOW_SECONDS"]),
            Rule("account", config["SIGNIN_MAX_PER_ACCOUNT"], config["SIGNIN_ACCOUNT_WINDOW_SECONDS"])]


def _keys(username: str, address: str) -> dict[str, str]:
    username, address = username[:120], (address or "unknown")[:64]
    return {"pair": f"pair:{username}|{address}", "address": f"addr:{address}", "account": f"acct:{username}"}


_HIT = text(
    'INSERT INTO sign_in_throttle ("key", "count", window_start) VALUES (:key, 1, :now) '
    'ON CONFLICT ("key") DO UPDATE SET '
    '"count" = CASE WHEN sign_in_throttle.window_start <= :cutoff THEN 1 ELSE sign_in_throttle."count" + 1 END, '
    'window_start = CASE WHEN sign_in_throttle.window_start <= :cutoff THEN :now ELSE sign_in_throttle.window_start END '
    'RETURNING "count", window_start'
).bindparams(bindparam("now", type_=DateTime), bindparam("cutoff", type_=DateTime)).columns(count=Integer,
                                                                                            window_start=DateTime)
_GIVE_BACK = text('UPDATE sign_in_throttle SET "count" = "count" - 1 WHERE "key" = :key AND "count" > 0')
_TOUCH = text(
    'INSERT INTO sign_in_throttle ("key", "count", window_start) VALUES (:key, 0, :now) '
    'ON CONFLICT ("key") DO UPDATE SET window_start = :now').bindparams(bindparam("now", type_=DateTime))
_SEEN = text('SELECT window_start FROM sign_in_throttle WHERE "key" = :key').columns(window_start=DateTime)
_PURGE = text('DELETE FROM sign_in_throttle WHERE ("key" NOT LIKE \'ok:%\' AND window_start < :old) '
              'OR ("key" LIKE \'ok:%\' AND window_start < :trust_old)').bindparams(
    bindparam("old", type_=DateTime), bindparam("trust_old", type_=DateTime))


def is_trusted(engine: Engine, username: str, address: str, trust_days: int) -> bool:
    with engine.connect() as conn:
        seen = conn.execute(_SEEN, {"key": TRUSTED + _keys(username, address)["pair"]}).scalar()
    return seen is not None and seen > utcnow() - dt.timedelta(days=trust_days)


def reserve(engine: Engine, config, username: str, address: str) -> list[str]:
    """Take this attempt's place in every counter, or raise 429 (nothing kept) if one is full.

    Returns the keys taken, for ``succeeded`` to give back."""
    keys = _keys(username, address)
    active = rules(config)
    if is_trusted(engine, username, address, config["SIGNIN_TRUST_DAYS"]):
        active = [r for r in active if r.name != "account"]
    now = utcnow()
    taken: list[str] = []
    retry_after = 0
    for rule in active:
        with engine.begin() as conn:
            count, start = conn.execute(_HIT, {"key": keys[rule.name], "now": now,
                                               "cutoff": now - dt.timedelta(seconds=rule.window)}).one()
        taken.append(keys[rule.name])
        if count > rule.limit:
            retry_after = math.ceil((start + dt.timedelta(seconds=rule.window) - now).total_seconds())
            break
    if retry_after:
        _give_back(engine, taken)
        retry_after = max(retry_after, 1)
        minutes = math.ceil(retry_after / 60)
        raise ServiceError("too_many_sign_ins",
                           f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                           {"retry_after": retry_after}, status=429, headers={"Retry-After": str(retry_after)})
    return taken


def succeeded(engine: Engine, config, username: str, address: str, taken: list[str]) -> None:
    """A correct password: reset the (account, address) counter, count nothing, trust this address."""
    keys = _keys(username, address)
    now = utcnow()
    _give_back(engine, [k for k in taken if k != keys["pair"]])
    with engine.begin() as conn:
        conn.execute(text('DELETE FROM sign_in_throttle WHERE "key" = :key'), {"key": keys["pair"]})
        conn.execute(_TOUCH, {"key": TRUSTED + keys["pair"], "now": now})
        longest = max(r.window for r in rules(config))
        conn.execute(_PURGE, {"old": now - dt.timedelta(seconds=longest),
                              "trust_old": now - dt.timedelta(days=config["SIGNIN_TRUST_DAYS"])})


def forget_account(engine: Engine, username: str) -> None:
    """Clear the account's failure counts (an administrator set a new password for it)."""
    username = username[:120]
    with engine.begin() as conn:
        conn.execute(delete(SignInThrottle).where(or_(
            SignInThrottle.key == f"acct:{username}",
            SignInThrottle.key.startswith(f"pair:{username}|", autoescape=True))))


def _give_back(engine: Engine, keys: list[str]) -> None:
    if keys:
        with engine.begin() as conn:
            for key in keys:
                conn.execute(_GIVE_BACK, {"key": key})
