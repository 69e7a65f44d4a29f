"""Commands of background jobs: ``run-jobs``, ``worker``, ``jobs-resume``; and ``run_and_report`` for commands that start a job."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .inprocess import requeue_orphans, run_pending


def run_and_report(sess, job):
    """Run (in-process) or wait for (Celery) a job a command started; its error as the command's."""
    from flask import current_app
    if current_app.config["JOB_RUNNER"] == "celery":  # the workers run it: wait for its end
        import time
        while True:
            sess.refresh(job)
            if job.state in ("done", "failed", "cancelled"):
                break
            time.sleep(1)
    else:
        run_pending(limit=10**6)
    sess.refresh(job)
    if job.state != "done":
        raise click.ClickException((job.error or {}).get("message", job.state_label))
    return job


@click.command("run-jobs")
@with_appcontext
def run_jobs_cmd():
    """Run every queued job in this process, then exit."""
    click.echo(f"Đã chạy {run_pending(limit=10**6)} công việc.")


@click.command("worker")
@click.option("--concurrency", "-c", type=int, default=None, help="Pool processes (default: one per core).")
@click.option("--pool", default="prefork", type=click.Choice(["prefork", "solo", "threads"]))
@click.option("--loglevel", "-l", default="INFO")
@click.option("--hostname", "-n", default=None, help="Node name (default: noicutru-PID@HOST).")
@with_appcontext
def worker_cmd(concurrency, pool, loglevel, hostname):
    """Start a Celery worker (NOICUTRU_JOB_RUNNER=celery): runs jobs sent through Redis."""
    import os
    from flask import current_app
    if current_app.config["JOB_RUNNER"] != "celery":
        raise click.ClickException("Cần đặt NOICUTRU_JOB_RUNNER=celery để chạy worker Celery.")
    # one page per process, one thread per page: Tesseract, OpenMP/BLAS and OpenCV stay single-threaded
    for var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    argv = ["worker", f"--pool={pool}", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
            f"--hostname={hostname or f'noicutru-{os.getpid()}@%h'}",
            f"--concurrency={concurrency or os.cpu_count() or 1}"]
    current_app.extensions["celery"].worker_main(argv)


@click.command("jobs-resume")
@with_appcontext
def jobs_resume_cmd():
    """Send every queued job and item to the workers again, and put back what dead workers held."""
    from flask import current_app
    if current_app.config["JOB_RUNNER"] == "celery":
        from .celery_runner import sweep
        click.echo(f"Đã gửi lại: {sweep(full=True)}")
    else:
        click.echo(f"Đã đưa lại vào hàng đợi {requeue_orphans()} công việc; "
                   f"đã chạy {run_pending(limit=10**6)} công việc.")


COMMANDS = [run_jobs_cmd, worker_cmd, jobs_resume_cmd]
