"""The Celery runner (JOB_RUNNER=celery): the same job functions, run by any number of workers.

Flask's documented pattern: ``celery_init_app`` makes a Celery app whose tasks run inside an
application context, configured from ``app.config["CELERY"]`` (Redis broker). Start workers
with ``noicutru worker``. The database is the truth; messages only say "look at job 7" or
"do item 123", and every task checks the rows before it acts, so a message delivered twice,
late, or to a second worker does no harm.

- ``start_job(job_id)`` takes the job (queued -> running, one UPDATE). A plain job runs here
  (``record.run_job``). An item job is planned (``items.ensure_planned``) and one
  ``run_job_item`` message is sent per pending item.
- ``run_job_item(item_id)`` runs one item (``items.run_item``); a passing failure is
  retried later (``self.retry``); after closing an item it tries to finish the job
  (``items.try_finish``, exactly once), and the job is closed by ``record.conclude``, the
  one way a job ends whatever the runner.
- Each worker process renews the leases of what it holds (``leases.renew_leases``), and each
  worker runs ``sweep`` now and then: an item or job held by a dead process (this host) or
  by an expired lease (another host) goes back to the queue; after Redis restarted (a new
  ``run_id``: Redis here keeps nothing on disk) or when the queue is empty while items wait,
  every queued job and item is sent again. ``noicutru jobs-resume`` runs the same sweep.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Optional

from celery import Celery, Task, shared_task, signals
from flask import Flask, current_app
from sqlalchemy import func, select, update

from .. import db
from . import items
from . import leases, record
from ..models import Job, JobItem, utcnow

log = logging.getLogger(__name__)

_FLASK_APP: Optional[Flask] = None


def celery_init_app(app: Flask) -> Celery:
    """Flask's documented Celery pattern: tasks run inside this app's context."""
    global _FLASK_APP

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    app.extensions["job_dispatch"] = dispatch_queued_jobs  # record.notify sends through it
    _FLASK_APP = app
    return celery_app


def celery() -> Celery:
    return current_app.extensions["celery"]


# --------------------------------------------------------------------------- tasks

@shared_task(name="noicutru.start_job", ignore_result=True)
def start_job(job_id: int) -> str:
    name = leases.lease_name()
    with db.new_session() as sess:
        took = sess.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                            .values(state="running", worker=name, started_at=utcnow())
                            .returning(Job.kind)).first()
    if took is None:  # cancelled, or taken by another worker (a message sent twice)
        return "not_queued"
    kind = took[0]
    if kind not in items.ITEM_JOBS:
        record.run_job(job_id)
        return "ran"

    def plan_and_dispatch() -> Optional[dict]:
        items.ensure_planned(job_id)
        pending = items.pending_items(job_id)
        for item_id in pending:
            run_job_item.delay(item_id)
        if not pending:  # nothing to do item by item: finish now
            return items.try_finish(job_id, name)
        return None

    record.conclude(job_id, plan_and_dispatch, none_is_pending=True)
    return "dispatched"


@shared_task(name="noicutru.run_job_item", bind=True, ignore_result=True, max_retries=None)
def run_job_item(self: Task, item_id: int) -> str:
    with db.new_session() as sess:
        row = sess.execute(select(JobItem.job_id, Job.state, Job.cancel_requested)
                           .join(Job, Job.id == JobItem.job_id).where(JobItem.id == item_id)).first()
    if row is None:
        return "missing"
    job_id, job_state, cancel_requested = row
    if job_state != "running":  # cancelled, failed, finishing or done: nothing more to do
        return "job_" + job_state
    if cancel_requested:
        record.close_job(job_id, "cancelled")
        return "cancelled"
    try:
        state = items.run_item(item_id, leases.lease_name(), may_take=leases.lease_stale)
    except items.ItemRetry as exc:
        raise self.retry(countdown=current_app.config.get("JOB_RETRY_SECONDS", 5), exc=exc)
    if state in ("done", "failed"):
        finish(job_id)
    return state


@shared_task(name="noicutru.finish_job", ignore_result=True)
def finish_job(job_id: int) -> Optional[str]:
    return finish(job_id)


def finish(job_id: int) -> Optional[str]:
    """Assemble and close the job if every item is closed (exactly once, whoever calls)."""
    return record.conclude(job_id, lambda: items.try_finish(job_id, leases.lease_name()), none_is_pending=True)


# --------------------------------------------------------------------------- sending and sweeping

def dispatch_queued_jobs(job_ids: Optional[list[int]] = None) -> int:
    """Send ``start_job`` for the given jobs, or for every queued job (a job already taken is ignored)."""
    with db.new_session() as sess:
        stmt = select(Job.id).where(Job.state == "queued").order_by(Job.id)
        if job_ids is not None:
            stmt = stmt.where(Job.id.in_(job_ids))
        ids = list(sess.scalars(stmt))
    for job_id in ids:
        start_job.delay(job_id)
    return len(ids)


def sweep(full: bool = False, retrying: bool = True) -> dict:
    """Put back what a dead worker held; with ``full``, send every queued job and item again
    (but for ``retrying=False`` the items waiting for their retry, whose message a worker holds).

    Safe to run anywhere, any time, by several workers at once: each put-back is a
    compare-and-swap on the holder, and a task sent twice finds its row taken or closed.
    """
    counts = {"jobs_sent": 0, "items_requeued": 0, "items_sent": 0, "finishes_sent": 0}
    if full:
        counts["jobs_sent"] = dispatch_queued_jobs()
    with db.new_session() as sess:
        open_jobs = sess.execute(select(Job.id, Job.kind, Job.state, Job.worker, Job.cancel_requested)
                                 .where(Job.state.in_(("running", "finishing"))).order_by(Job.id)).all()
    for job_id, kind, state, holder, cancel_requested in open_jobs:
        if cancel_requested and state == "running" and kind in items.ITEM_JOBS:
            record.close_job(job_id, "cancelled")  # its remaining items are not sent again
            continue
        if state == "finishing":
            if leases.lease_stale(holder) and _put_back(Job, job_id, "finishing", holder, "running"):
                finish_job.delay(job_id)
                counts["finishes_sent"] += 1
            continue
        with db.new_session() as sess:
            open_items = sess.execute(select(JobItem.id, JobItem.state, JobItem.worker, JobItem.attempts)
                                 .where(JobItem.job_id == job_id, JobItem.state.in_(("queued", "running")))
                                 .order_by(JobItem.seq)).all()
            planned = sess.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id))
        if kind not in items.ITEM_JOBS or not planned:  # a plain job, or an item job not planned yet
            if leases.lease_stale(holder) and _put_back(Job, job_id, "running", holder, "queued"):
                start_job.delay(job_id)
                counts["jobs_sent"] += 1
            continue
        if not open_items:  # every item closed, but nobody finished (the closer died)
            finish_job.delay(job_id)
            counts["finishes_sent"] += 1
            continue
        for item_id, item_state, item_holder, attempts in open_items:
            if item_state == "running":
                if leases.lease_stale(item_holder) and _put_back(JobItem, item_id, "running", item_holder, "queued"):
                    run_job_item.delay(item_id)
                    counts["items_requeued"] += 1
            elif full and (retrying or not attempts):
                run_job_item.delay(item_id)
                counts["items_sent"] += 1
    if any(counts.values()):
        log.info("sweep%s: %s", " (full)" if full else "", counts)
    return counts


def _put_back(model, row_id: int, state: str, holder: Optional[str], new_state: str) -> bool:
    with db.new_session() as sess:
        cond = model.worker.is_(None) if holder is None else model.worker == holder
        return sess.execute(update(model).where(model.id == row_id, model.state == state, cond)
                            .values(state=new_state).returning(model.id)).first() is not None


class Sweeper(threading.Thread):
    """In each worker's main process: sweep now and then; a full sweep after Redis restarted,
    when the queue is empty while work waits, and at start."""

    def __init__(self, app: Flask, celery_app: Celery):
        super().__init__(name="noicutru-sweeper", daemon=True)
        self.app, self.celery_app = app, celery_app
        self.halt = threading.Event()
        self.run_id: Optional[str] = None

    def run(self) -> None:
        every = self.app.config.get("JOB_SWEEP_SECONDS", 15)
        first = True
        while not self.halt.is_set():
            try:
                with self.app.app_context():
                    why = "start" if first else self._broker_says_full()
                    if why and not self._lock(every):
                        why = None  # another worker does the full sweep now
                    sweep(full=bool(why), retrying=why != "idle")
                    first = False
            except Exception:  # the broker or the database is away: try again later
                log.warning("sweep failed", exc_info=True)
            self.halt.wait(every)

    def _broker_says_full(self) -> Optional[str]:
        """'restarted' (Redis lost its messages), 'idle' (empty queue, work waiting), or None."""
        with self.celery_app.connection_for_write() as conn:
            client = conn.default_channel.client
            run_id = client.info("server").get("run_id")
            restarted = self.run_id is not None and run_id != self.run_id
            self.run_id = run_id
            if restarted:
                log.warning("Redis restarted (run_id changed): sending queued work again")
                return "restarted"
            queue = self.celery_app.conf.task_default_queue
            waiting = client.llen(queue)  # the Redis list that holds the queue's messages
        if waiting:
            return None
        with db.new_session() as sess:  # empty queue: is anything queued in the database (not a retry)?
            lost = (sess.scalar(select(func.count()).select_from(JobItem).join(Job, Job.id == JobItem.job_id)
                                .where(Job.state == "running", JobItem.state == "queued", JobItem.attempts == 0))
                    or sess.scalar(select(func.count()).select_from(Job).where(Job.state == "queued")))
        return "idle" if lost else None

    def _lock(self, seconds: float) -> bool:
        with self.celery_app.connection_for_write() as conn:
            return bool(conn.default_channel.client.set("noicutru:full-sweep", os.getpid(), nx=True,
                                                        ex=max(1, int(seconds))))


class Heartbeat(threading.Thread):
    """In each worker process: renew the leases of the items and jobs this process holds."""

    def __init__(self, app: Flask):
        super().__init__(name="noicutru-heartbeat", daemon=True)
        self.app = app

    def run(self) -> None:
        every = max(1.0, self.app.config.get("JOB_LEASE_SECONDS", 120) / 4)
        while True:
            time.sleep(every)
            try:
                with self.app.app_context():
                    leases.renew_leases()
            except Exception:
                log.warning("lease renewal failed", exc_info=True)


@signals.worker_process_init.connect
def _on_process_init(**_kwargs: object) -> None:
    """A forked pool process: fresh database connections, and its own heartbeat."""
    if _FLASK_APP is None:
        return
    try:  # one page per process: OpenCV's own thread pool would compete with the other processes
        import cv2
        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover
        pass
    with _FLASK_APP.app_context():
        db.engine().dispose(close=False)
    Heartbeat(_FLASK_APP).start()


@signals.worker_ready.connect
def _on_worker_ready(sender=None, **_kwargs: object) -> None:
    if _FLASK_APP is None:
        return
    Heartbeat(_FLASK_APP).start()  # the solo and threads pools run tasks in this process
    Sweeper(_FLASK_APP, _FLASK_APP.extensions["celery"]).start()
