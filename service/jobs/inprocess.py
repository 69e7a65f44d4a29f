"""The embedded default runner (JOB_RUNNER=inprocess): a thread of the web process takes jobs from the
table; ``run_pending`` runs them in the calling thread (CLI and tests)."""
from __future__ import annotations

import logging
import socket
import threading
from typing import Optional

from flask import Flask
from sqlalchemy import select, text

from .. import db
from ..models import Job, utcnow
from .leases import process_alive, worker_name
from .record import run_job

log = logging.getLogger(__name__)


def claim_next(name: str) -> Optional[int]:
    """Atomically take the oldest queued job (one UPDATE ... RETURNING, safe across processes)."""
    with db.new_session() as sess:
        row = sess.execute(text(
            "UPDATE jobs SET state='running', worker=:w, started_at=:now "
            "WHERE id = (SELECT id FROM jobs WHERE state='queued' ORDER BY id LIMIT 1) AND state='queued' "
            "RETURNING id"), {"w": name, "now": utcnow()}).first()
        return row[0] if row else None


def run_pending(limit: int = 100) -> int:
    """Run queued jobs in this thread until none are left (CLI and tests). Returns how many ran."""
    name = worker_name()
    count = 0
    while count < limit:
        job_id = claim_next(name)
        if job_id is None:
            break
        run_job(job_id)
        count += 1
    return count


def requeue_orphans() -> int:
    """Jobs left 'running' by a process of this host that no longer exists go back to the queue."""
    host = socket.gethostname()
    n = 0
    with db.new_session() as sess:
        for job in sess.scalars(select(Job).where(Job.state.in_(("running", "finishing")))):
            parts = (job.worker or "").split(":")
            if len(parts) >= 2 and parts[0] == host and parts[1].isdigit() and not process_alive(int(parts[1])):
                job.state, job.worker = "queued", None
                n += 1
    return n


class InProcessWorker(threading.Thread):
    """The embedded default: one thread of the web process takes jobs from the table."""

    def __init__(self, app: Flask, poll_seconds: float = 2.0):
        super().__init__(name="noicutru-worker", daemon=True)
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def run(self) -> None:
        with self.app.app_context():
            requeue_orphans()
        name = worker_name()
        while not self._halt.is_set():
            with self.app.app_context():
                try:
                    job_id = claim_next(name)
                    if job_id is not None:
                        run_job(job_id)
                        continue
                except Exception:  # keep the worker alive; the job row tells the user
                    log.exception("worker loop error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()


def start_worker(app: Flask) -> InProcessWorker:
    worker = InProcessWorker(app)
    app.extensions["job_worker"] = worker
    worker.start()
    return worker
