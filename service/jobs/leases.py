"""Who holds a job or an item: holder names, leases renewed by a heartbeat, and whether a holder is gone."""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Optional

from flask import current_app
from sqlalchemy import text

from .. import db


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def lease_name(now: Optional[float] = None) -> str:
    """Who holds a job or item, for runners on several machines: ``host:pid:c@epoch``.

    The epoch is renewed by a heartbeat of the holding process (``renew_leases``), so another
    machine can tell a holder that died (lease older than JOB_LEASE_SECONDS) from a busy one.
    """
    return f"{socket.gethostname()}:{os.getpid()}:c@{int(now if now is not None else time.time())}"


def lease_stale(worker: Optional[str], lease_seconds: Optional[float] = None, now: Optional[float] = None) -> bool:
    """Whether the holder named ``worker`` is gone: a dead process of this host, or an expired lease."""
    if not worker:
        return True
    lease_seconds = lease_seconds if lease_seconds is not None else current_app.config.get("JOB_LEASE_SECONDS", 120)
    parts = worker.split(":")
    if len(parts) >= 2 and parts[0] == socket.gethostname() and parts[1].isdigit() and not process_alive(int(parts[1])):
        return True
    _, at, epoch = worker.rpartition("@")
    if not at or not epoch.isdigit():
        return False  # an in-process holder of this host (alive) or elsewhere: no lease to judge by
    return (now if now is not None else time.time()) - int(epoch) > lease_seconds


def renew_leases() -> None:
    """Heartbeat of a worker process: bring the epoch of everything it holds up to now."""
    prefix = f"{socket.gethostname()}:{os.getpid()}:c@"
    new = lease_name()
    with db.new_session() as sess:
        for table, states in (("job_items", "('running')"), ("jobs", "('running', 'finishing')")):
            sess.execute(text(f"UPDATE {table} SET worker=:new WHERE state IN {states} "
                              "AND substr(worker, 1, :n) = :prefix AND worker <> :new"),
                         {"new": new, "n": len(prefix), "prefix": prefix})


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
