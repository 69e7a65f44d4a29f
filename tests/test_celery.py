"""Scale-out on real Redis and PostgreSQL: Celery worker processes that die, a Redis that restarts.

Each test starts real ``python -m service worker`` processes (NOICUTRU_JOB_RUNNER=celery) on a
PostgreSQL schema of this module, a temporary storage folder, and a redis-server of its own
(a free port, nothing kept on disk), so the machine's Redis is never disturbed.

- a 200-page scan batch read by two worker processes, one killed with SIGKILL mid-batch:
  the job completes, every page read and applied exactly once, progress equal to total;
- Redis restarted mid-job: the work resumes and completes, every item run once;
- an item that always crashes fails alone after its retries; the job ends done and names it.

With CI=true a missing PostgreSQL or redis-server fails these tests; otherwise they skip.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from service import create_app, db
from service.jobs import record as jobs
from tests.support.services import free_port, pg_missing, pg_schema, require, start_redis
from service.models import AuditEntry, Base, Evaluation, Job, JobItem, ScanPage

pytestmark = [pytest.mark.celery, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = f"nct_celery_{os.getpid()}"
SECRET = "celery-test-secret-key-0123456789abcdef"
YEAR = 2026


class Redis:
    """A redis-server of the test's own, restartable on the same port."""

    def __init__(self, workdir: Path):
        self.port, self.workdir, self.proc = free_port(), workdir, None

    def start(self) -> None:
        self.proc = start_redis(self.port, self.workdir)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # like a crash: every message in it is lost
            self.proc.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture(scope="module")
def pg_schema_url():
    require(pg_missing())
    with pg_schema(SCHEMA) as url:
        yield url


@pytest.fixture
def redis(tmp_path):
    require(None if shutil.which("redis-server") else "redis-server is not installed")
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(pg_schema_url, redis, tmp_path, monkeypatch):
    """The test's app (runner: celery) and a way to start worker processes sharing its database,
    storage and broker."""
    env = {"DATABASE_URL": pg_schema_url, "NOICUTRU_JOB_RUNNER": "celery", "NOICUTRU_CELERY_BROKER": redis.url,
           "NOICUTRU_STORAGE_DIR": str(tmp_path / "storage"), "NOICUTRU_INSTANCE_DIR": str(tmp_path / "instance"),
           "NOICUTRU_SECRET_KEY": SECRET, "NOICUTRU_JOB_MODULES": "tests.support.celery_jobs",
           "NOICUTRU_JOB_SWEEP_SECONDS": "1", "NOICUTRU_JOB_RETRY_SECONDS": "0.5", "NOICUTRU_JOB_LEASE_SECONDS": "20"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    app = create_app({"TESTING": True})
    with app.app_context():
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine().begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    workers: list[tuple[subprocess.Popen, Path]] = []

    def start_worker(name: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen([sys.executable, "-m", "service", "worker", "--concurrency", "1", "--loglevel", "INFO",
                                 "--hostname", f"{name}@%h"], cwd=ROOT,
                                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        workers.append((proc, log))
        deadline = time.time() + 60
        while "ready." not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.time() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        return proc

    app.start_worker = start_worker
    app.workers = workers
    app.marks = tmp_path / "marks"
    app.marks.mkdir()
    with app.app_context():
        yield app
        db.engine().dispose()
    for proc, log in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc, log in workers:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _job(job_id: int) -> Job:
    with db.new_session() as s:
        return s.get(Job, job_id)


def _wait(job_id: int, until, timeout: float, what: str) -> Job:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = _job(job_id)
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id}: {what} not reached in {timeout} s: {job.state} "
                         f"{job.progress_done}/{job.progress_total} {job.error}")


def _items(job_id: int) -> list[JobItem]:
    with db.new_session() as s:
        return list(s.scalars(select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.seq)))


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool process at once, like a machine that dies."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def _test_job(cluster, n: int, **params) -> int:
    sess = db.session()
    job = jobs.enqueue(sess, "test_items", {"n": n, "marks": str(cluster.marks), **params})
    sess.commit()
    jobs.notify()
    return job.id


def test_scan_batch_of_200_pages_survives_a_worker_killed_mid_batch(cluster):
    from service.scans import intake
    from tests.support import scan_batch
    sess = db.session()
    user, members = scan_batch.seed(sess, 200, YEAR)
    files = scan_batch.pages(sess, members, YEAR)
    first, second = cluster.start_worker("w1"), cluster.start_worker("w2")
    batch = intake.start_batch(sess, user, files)
    job_id = batch.job_id
    _wait(job_id, lambda j: j.progress_done >= 30, 300, "30 pages read")
    _kill(first)
    job = _wait(job_id, lambda j: j.state in ("done", "failed", "cancelled"), 600, "the end of the job")
    assert second.poll() is None
    assert job.state == "done", job.error
    assert job.progress_total == 200 and job.progress_done == 200 and job.percent == 100
    items = _items(job_id)
    assert len(items) == 200 and all(i.state == "done" for i in items), [(i.label, i.state) for i in items
                                                                          if i.state != "done"]
    page_ids = [i.result["page_id"] for i in items]
    assert len(set(page_ids)) == 200  # each page stored once
    with db.new_session() as s:
        assert s.scalar(select(func.count()).select_from(ScanPage).where(ScanPage.batch_id == batch.id)) == 200
        # every member: still one sheet, applied at most once, never twice
        per_member = dict(s.execute(select(Evaluation.member_id, func.count()).group_by(Evaluation.member_id)).all())
        assert set(per_member.values()) == {1} and len(per_member) == 200
        applied = dict(s.execute(select(AuditEntry.member_id, func.count()).where(AuditEntry.action == "evaluation")
                                 .group_by(AuditEntry.member_id)).all())
        assert applied and max(applied.values()) == 1
        statuses = dict(s.execute(select(ScanPage.status, func.count()).where(ScanPage.batch_id == batch.id)
                                  .group_by(ScanPage.status)).all())
        assert statuses.get("applied", 0) == len(applied)
        returned = s.scalar(select(func.count()).select_from(Evaluation).where(Evaluation.status == "returned"))
        assert returned == len(applied)
    # the killed worker had taken part; what it was reading was read again by the other one
    killed_log = cluster.workers[0][1].read_text(errors="replace")
    assert "succeeded" in killed_log
    print(f"applied {len(applied)}, review {statuses.get('review', 0)}; items taken over: "
          f"{sum(i.attempts > 1 for i in items)}")


def test_redis_restarted_mid_job_the_work_resumes(cluster, redis):
    cluster.start_worker("w1"), cluster.start_worker("w2")
    job_id = _test_job(cluster, 80, sleep=0.15)
    _wait(job_id, lambda j: j.progress_done >= 15, 60, "15 items")
    redis.stop()
    time.sleep(2)
    assert _job(job_id).state == "running"
    redis.start()  # empty: every message that was queued is gone
    job = _wait(job_id, lambda j: j.state in ("done", "failed", "cancelled"), 300, "the end of the job")
    assert job.state == "done", job.error
    assert (job.progress_done, job.progress_total) == (80, 80)
    items = _items(job_id)
    assert all(i.state == "done" and i.attempts == 1 for i in items)
    assert sorted(p.name for p in cluster.marks.glob("item-*")) == sorted(f"item-{n}" for n in range(80))
    executions = (cluster.marks / "executions.log").read_text().split("\n")[:-1]
    assert len(executions) == 80  # nothing run twice, nothing lost
    assert (cluster.marks / "finish.log").read_text().count("\n") == 1  # the result assembled once


def test_an_item_that_always_crashes_fails_alone_and_is_named(cluster):
    cluster.start_worker("w1"), cluster.start_worker("w2")
    job_id = _test_job(cluster, 20, crash=[7])
    job = _wait(job_id, lambda j: j.state in ("done", "failed", "cancelled"), 300, "the end of the job")
    assert job.state == "done", job.error
    assert job.progress_done == job.progress_total == 20
    items = _items(job_id)
    failed = [i for i in items if i.state == "failed"]
    assert [i.label for i in failed] == ["phần 7"] and failed[0].attempts == 3
    assert failed[0].error["code"] == "item_crashed"
    assert all(i.state == "done" and i.attempts == 1 for i in items if i.label != "phần 7")
    assert job.result["done"] == 19
    assert [f["label"] for f in job.result["failures"]] == ["phần 7"]
    executions = (cluster.marks / "executions.log").read_text().split("\n")[:-1]
    assert sum(line.split()[0] == "7" for line in executions) == 3 and len(executions) == 22
