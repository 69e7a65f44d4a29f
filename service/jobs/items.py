"""Large jobs split into items that any worker may take, each done exactly once.

An item job is a class with three static methods, registered with ``@item_job(kind)``:

- ``plan(ctx, params) -> list[dict]``: the items, each ``{"label": ..., **item_params}``;
  called once per job (its rows are written in one transaction);
- ``run_item(ctx, params, item_params) -> dict | None``: one item; must be idempotent,
  because a worker killed mid-item means the item runs again elsewhere. Raise
  ``ItemRejected`` for a problem with the item itself (reported by its label, no retry);
  any other exception is retried up to ``max_attempts`` times;
- ``finish(ctx, params, items) -> dict | None``: assembles the result, once, when every
  item is done or failed.

The functions below are the runner-agnostic steps: the in-process runner calls them in a
loop, and a distributed runner (Celery) calls them from separate tasks.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable, Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import db
from .leases import worker_name
from .record import JobContext, JobFailed, job_function
from ..models import Job, JobItem, utcnow

ITEM_JOBS: dict[str, type] = {}
MAX_ATTEMPTS = 3


class ItemRejected(Exception):
    """The item itself cannot be done (bad data): fail it now, named, without retrying."""

    def __init__(self, message: str, code: str = "item_rejected"):
        super().__init__(message)
        self.message, self.code = message, code


class ItemRetry(Exception):
    """An item failed for a passing reason and has attempts left."""


def item_job(kind: str, label: Optional[str] = None):
    def deco(cls):
        ITEM_JOBS[kind] = cls

        def inline(ctx: JobContext, params: dict) -> Optional[dict]:
            return run_inline(kind, ctx, params)

        job_function(kind, label)(inline)
        return cls
    return deco


def ensure_planned(job_id: int) -> list[int]:
    """The job's item ids, planning them first if nobody has (safe when two workers race)."""
    with db.new_session() as sess:
        ids = list(sess.scalars(select(JobItem.id).where(JobItem.job_id == job_id).order_by(JobItem.seq)))
        if ids:
            return ids
        job = sess.get(Job, job_id)
        kind, params = job.kind, dict(job.params or {})
    spec = ITEM_JOBS[kind]
    planned = spec.plan(JobContext(job_id), params)
    try:
        with db.new_session() as sess:
            for seq, item in enumerate(planned):
                item = dict(item)
                sess.add(JobItem(job_id=job_id, seq=seq, label=str(item.pop("label", ""))[:255], params=item))
            sess.execute(update(Job).where(Job.id == job_id).values(progress_total=len(planned), progress_done=0))
    except IntegrityError:
        pass  # another worker planned the same job first
    with db.new_session() as sess:
        return list(sess.scalars(select(JobItem.id).where(JobItem.job_id == job_id).order_by(JobItem.seq)))


def run_item(item_id: int, worker: str, max_attempts: int = MAX_ATTEMPTS,
             may_take: Optional[Callable[[Optional[str]], bool]] = None) -> str:
    """Run one item. Returns its final state ('done' / 'failed'), or raises ItemRetry.

    An item found 'running' was left by a holder that crashed, or is being run right now by
    another worker: ``may_take(holder)`` says whether to take it over (default: yes, for the
    in-process runner, which only meets its own crashed items); if not, returns 'held'.
    Taking an item is a compare-and-swap on (state, holder), so two workers never both take it.
    """
    with db.new_session() as sess:
        seen = sess.execute(select(JobItem.state, JobItem.worker).where(JobItem.id == item_id)).first()
        if seen is None:
            return "missing"
        if seen.state not in ("queued", "running"):  # done or failed already: running it again would do it twice
            return seen.state
        if seen.state == "running" and may_take is not None and not may_take(seen.worker):
            return "held"
        holder = JobItem.worker.is_(None) if seen.worker is None else JobItem.worker == seen.worker
        claimed = sess.execute(update(JobItem).where(JobItem.id == item_id, JobItem.state == seen.state, holder)
                               .values(state="running", attempts=JobItem.attempts + 1, worker=worker)
                               .returning(JobItem.job_id, JobItem.attempts)).first()
        if claimed is None:  # somebody else took or closed it in between
            return sess.scalar(select(JobItem.state).where(JobItem.id == item_id)) or "missing"
        job_id, attempts = claimed
        item = sess.get(JobItem, item_id)
        job = sess.get(Job, job_id)
        kind, params, item_params = job.kind, dict(job.params or {}), dict(item.params or {})
    spec = ITEM_JOBS[kind]
    try:
        result = spec.run_item(JobContext(job_id), params, item_params)
    except ItemRejected as exc:
        return _close_item(item_id, job_id, "failed", error={"code": exc.code, "message": exc.message})
    except Exception as exc:
        if attempts < max_attempts:
            with db.new_session() as sess:
                sess.execute(update(JobItem).where(JobItem.id == item_id, JobItem.state == "running")
                             .values(state="queued", error={"code": "retrying", "message": repr(exc)}))
            raise ItemRetry(repr(exc)) from exc
        return _close_item(item_id, job_id, "failed", error={
            "code": "item_crashed", "message": f"Lỗi khi xử lý sau {attempts} lần thử: {exc.__class__.__name__}",
            "trace": traceback.format_exc()[-2000:]})
    return _close_item(item_id, job_id, "done", result=result)


def _close_item(item_id: int, job_id: int, state: str, result: Any = None, error: Any = None) -> str:
    with db.new_session() as sess:
        closed = sess.execute(update(JobItem).where(JobItem.id == item_id, JobItem.state == "running")
                              .values(state=state, result=result, error=error, finished_at=utcnow())
                              .returning(JobItem.id)).first()
        if closed is not None:  # count each item once, whoever closes it
            sess.execute(update(Job).where(Job.id == job_id).values(progress_done=Job.progress_done + 1))
    return state


def pending_items(job_id: int) -> list[int]:
    with db.new_session() as sess:
        return list(sess.scalars(select(JobItem.id).where(JobItem.job_id == job_id,
                                                          JobItem.state.in_(("queued", "running")))
                                 .order_by(JobItem.seq)))


def try_finish(job_id: int, worker: Optional[str] = None) -> Optional[dict]:
    """When every item is closed, assemble the result exactly once. Returns it to the caller that did.

    The job goes 'running' -> 'finishing' (held by ``worker``) in one UPDATE: one caller wins.
    """
    with db.new_session() as sess:
        open_items = sess.scalar(select(func.count()).select_from(JobItem).where(
            JobItem.job_id == job_id, JobItem.state.in_(("queued", "running"))))
        if open_items:
            return None
        values: dict[str, Any] = {"state": "finishing"}
        if worker:
            values["worker"] = worker
        won = sess.execute(update(Job).where(Job.id == job_id, Job.state == "running")
                           .values(**values).returning(Job.id)).first()
    if won is None:
        return None
    with db.new_session() as sess:
        job = sess.get(Job, job_id)
        kind, params = job.kind, dict(job.params or {})
        items = list(sess.scalars(select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.seq)))
        sess.expunge_all()
    return ITEM_JOBS[kind].finish(JobContext(job_id), params, items) or {}


def failures(items: list[JobItem]) -> list[dict]:
    return [{"label": i.label, "message": (i.error or {}).get("message", ""), **{k: v for k, v in i.params.items()
                                                                                if k.endswith("_id")}}
            for i in items if i.state == "failed"]


def run_inline(kind: str, ctx: JobContext, params: dict) -> Optional[dict]:
    """The in-process runner: plan, every item in turn (with retries), then finish."""
    name = worker_name()
    for n, item_id in enumerate(ensure_planned(ctx.job_id)):
        if n % 20 == 0:
            ctx.check_cancel()
        for _ in range(MAX_ATTEMPTS):
            try:
                run_item(item_id, name)
                break
            except ItemRetry:
                continue
    result = try_finish(ctx.job_id)
    if result is None:
        raise JobFailed("not_finished", "Còn phần việc chưa xong; công việc chưa thể tổng hợp kết quả.")
    return result
