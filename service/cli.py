"""Command line: ``noicutru COMMAND`` or ``flask --app service COMMAND``."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from . import create_app, db, jobs, migrate
from .errors import ServiceError
from .models import Organisation, User

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "members.xlsx"
DEMO_PASSWORD = "dangvien213"


@click.command("db-upgrade")
@with_appcontext
def db_upgrade_cmd():
    """Create the database or bring it to the latest migration."""
    migrate.upgrade()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@click.command("create-admin")
@click.argument("username")
@click.option("--full-name", default="")
@click.option("--password", envvar="NOICUTRU_ADMIN_PASSWORD", help="Or set NOICUTRU_ADMIN_PASSWORD; asked if absent.")
@with_appcontext
def create_admin_cmd(username, full_name, password):
    """Create an administrator (the only way to get the first one outside demo mode)."""
    from .users_admin import create_user
    if not password:
        password = getpass.getpass("Mật khẩu: ")
    try:
        user = create_user(db.session(), username, password, "admin", None, full_name)
    except ServiceError as err:
        raise click.ClickException(err.message)
    click.echo(f"Đã tạo quản trị viên {user.username}.")


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="API")
@with_appcontext
def create_token_cmd(username, name):
    """Print a new API token for USERNAME."""
    from .auth import new_api_token
    sess = db.session()
    user = sess.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"Không có người dùng {username}.")
    token = new_api_token(sess, user, name)
    sess.commit()
    click.echo(token)


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "username", required=True, help="The user the import is recorded for.")
@click.option("--yes", is_flag=True, help="Apply without asking when the preview has no rejected row.")
@with_appcontext
def import_cmd(path, username, yes):
    """Import a member workbook: preview, then apply (as a job run here)."""
    from . import importing
    sess = db.session()
    user = sess.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"Không có người dùng {username}.")
    try:
        batch = importing.preview_upload(sess, user, Path(path).read_bytes(), Path(path).name)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    s, p = batch.preview["summary"], batch.preview
    click.echo(f"Thêm mới {s['create']}, cập nhật {s['update']}, không đổi {s['unchanged']}, "
               f"có thể trùng {s.get('duplicate', 0)}, bị từ chối {s['rejected']}.")
    labels = p.get("field_labels", {})
    for c in p.get("all_columns", []):
        click.echo(f"  Cột {c['letter']} «{c['header']}» → {labels.get(c['field'], 'bỏ qua') if c['field'] else 'bỏ qua'}")
    for c in p.get("unmapped_columns", []):
        click.echo(f"  ! Cột {c['letter']} «{c['header']}» có {c['values']} dòng giá trị nhưng bị bỏ qua.")
    for row in batch.preview["rows"]:
        for e in row.get("errors") or []:
            click.echo(f"  - {e['message']}")
        if row.get("duplicate_of"):
            d = row["duplicate_of"]
            click.echo(f"  ? Dòng {row['row']}: có thể trùng với {d['full_name']} (số thẻ {d['card_number']}), không nhập.")
    if batch.status != "previewed":
        raise click.ClickException("Tệp có dòng lỗi: không có dữ liệu nào được ghi.")
    if not yes and not click.confirm("Nhập dữ liệu?"):
        return
    job = _run_and_report(sess, importing.confirm(sess, user, batch))
    click.echo(f"Xong: {job.result}")


def _user(sess, username: str) -> User:
    user = sess.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"Không có người dùng {username}.")
    return user


def _run_and_report(sess, job):
    from flask import current_app
    if current_app.config["JOB_RUNNER"] == "celery":  # the workers run it: wait for its end
        import time
        while True:
            sess.refresh(job)
            if job.state in ("done", "failed", "cancelled"):
                break
            time.sleep(1)
    else:
        jobs.run_pending(limit=10**6)
    sess.refresh(job)
    if job.state != "done":
        raise click.ClickException((job.error or {}).get("message", job.state_label))
    return job


@click.command("generate")
@click.option("--kind", type=click.Choice(["evaluation_sheet", "introduction_letter"]), default="evaluation_sheet")
@click.option("--year", type=int, required=True)
@click.option("--workplace-org", "workplace_org_id", type=int)
@click.option("--cell", "residence_cell_id", type=int)
@click.option("--ward", "ward_id", type=int)
@click.option("--outputs", default="zip,combined", help="Any of zip, combined, pdf, cell_bundles (comma separated).")
@click.option("--as-user", "username", required=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="Where to write the ZIP.")
@with_appcontext
def generate_cmd(kind, year, workplace_org_id, residence_cell_id, ward_id, outputs, username, out_path):
    """Bulk mail-merge of letters or sheets (runs the job here) into a ZIP file."""
    from . import storage
    from .documents import bulk
    from .models import StoredFile
    sess = db.session()
    selection = {k: v for k, v in (("workplace_org_id", workplace_org_id), ("residence_cell_id", residence_cell_id),
                                   ("ward_id", ward_id)) if v}
    try:
        job = bulk.start(sess, _user(sess, username), kind, year, selection, outputs.split(","))
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    job = _run_and_report(sess, job)
    Path(out_path).write_bytes(storage.read(sess.get(StoredFile, job.result_file_id)))
    click.echo(f"Đã tạo {job.result['made']} văn bản, lỗi {job.result['failed']}: {out_path}")
    for failure in job.result.get("failures", []):
        click.echo(f"  - {failure['message']}")


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "username", required=True)
@click.option("--no-auto", is_flag=True, help="Send every page to review, even confident ones.")
@with_appcontext
def scan_cmd(paths, username, no_auto):
    """Read a stack of scanned returns (runs the job here) and print what happened to each page."""
    from .scans import intake
    sess = db.session()
    try:
        batch = intake.start_batch(sess, _user(sess, username), [(Path(p).name, Path(p).read_bytes()) for p in paths],
                                   auto_apply=not no_auto)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    for f in batch.files:
        if f.error:
            click.echo(f"  ! {f.error['message']}")
    from .models import Job
    _run_and_report(sess, sess.get(Job, batch.job_id))
    sess.refresh(batch)
    click.echo(f"Lô #{batch.id}: {batch.summary['pages']}")


@click.command("run-jobs")
@with_appcontext
def run_jobs_cmd():
    """Run every queued job in this process, then exit."""
    click.echo(f"Đã chạy {jobs.run_pending(limit=10**6)} công việc.")


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
        from .celery_app import sweep
        click.echo(f"Đã gửi lại: {sweep(full=True)}")
    else:
        click.echo(f"Đã đưa lại vào hàng đợi {jobs.requeue_orphans()} công việc; "
                   f"đã chạy {jobs.run_pending(limit=10**6)} công việc.")


def ensure_demo_data(app) -> None:
    """Demo mode: demo sign-ins, and the sample workbook loaded on the first start only."""
    from . import importing
    from .users_admin import create_user
    marker = Path(app.instance_path) / "demo-data-loaded"
    with app.app_context():
        sess = db.session()
        admin = sess.scalar(select(User).where(User.username == "admin"))
        if admin is None:
            admin = create_user(sess, "admin", DEMO_PASSWORD, "admin", None, "Quản trị (bản dùng thử)")
        if not marker.exists() and SAMPLE.exists():
            batch = importing.preview_upload(sess, admin, SAMPLE.read_bytes(), SAMPLE.name)
            if batch.status == "previewed":
                importing.confirm(sess, admin, batch)
                jobs.run_pending()
            marker.write_text("1")
        for username, role, kind, name in (("canbo", "workplace_staff", "workplace_committee", "Cán bộ đảng ủy (dùng thử)"),
                                           ("bithu", "cell_secretary", "residence_cell", "Bí thư chi bộ (dùng thử)")):
            if sess.scalar(select(User).where(User.username == username)) is None:
                org = sess.scalar(select(Organisation).where(Organisation.kind == kind).order_by(Organisation.id))
                if org is not None:
                    create_user(sess, username, DEMO_PASSWORD, role, org.id, name)


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, type=int)
@click.option("--demo", is_flag=True, help="Demo sign-ins and the sample workbook (first start only).")
def serve_cmd(host, port, threads, demo):
    """Upgrade the database and run the web server with its in-process job worker."""
    import waitress
    overrides = {"START_WORKER": False}
    if demo:
        overrides.update(DEMO_MODE=True, DEMO_PASSWORD=DEMO_PASSWORD)
    app = create_app(overrides)
    with app.app_context():
        migrate.upgrade()
    if demo:
        ensure_demo_data(app)
    if app.config["JOB_RUNNER"] == "inprocess":
        jobs.start_worker(app)
    import signal
    # SIGTERM (systemd, Ctrl-C in a supervisor, a test) ends the process normally, so that its
    # exit handlers run (the LibreOffice instance used for PDFs is closed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"noicutru đang chạy tại http://{host}:{port}/")
    if demo:
        click.echo(f"Đăng nhập dùng thử: admin / {DEMO_PASSWORD}  (cán bộ đảng ủy: canbo, bí thư chi bộ: bithu; cùng mật khẩu)")
    sys.stdout.flush()
    waitress.serve(app, host=host, port=port, threads=threads, ident="noicutru")


COMMANDS = [db_upgrade_cmd, create_admin_cmd, create_token_cmd, import_cmd, generate_cmd, scan_cmd, run_jobs_cmd,
            serve_cmd, worker_cmd, jobs_resume_cmd]


def register(app) -> None:
    for cmd in COMMANDS:
        app.cli.add_command(cmd)


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help="noicutru: quản lý đảng viên theo Quy định 213-QĐ/TW.")(prog_name="noicutru")
