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
    from . import qrkeys
    qrkeys.ensure()  # keeps the key of sheets printed before key ids, before any secret changes
    _check_builtin_templates()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


def _check_builtin_templates() -> None:
    """Register the templates shipped in templates/; refuse to go on if a released version was edited."""
    from .documents.templates_store import ReleasedVersionChanged, sync_builtin
    try:
        sync_builtin(db.session(), force=True)
    except ReleasedVersionChanged as exc:
        raise click.ClickException(exc.message) from None


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_cmd(path):
    """Write the database and the file store into one archive (with a manifest and checksums)."""
    from . import backup
    m = backup.backup(path)
    rows = sum(t["rows"] for t in m["tables"].values())
    click.echo(f"Đã sao lưu {rows} dòng của {len(m['tables'])} bảng và {len(m['files'])} tệp "
               f"(phiên bản cơ sở dữ liệu {m['schema_revision']}) vào {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a target that already holds data.")
@with_appcontext
def restore_cmd(path, force):
    """Restore an archive made by ``backup`` (all or nothing; into an empty instance unless --force)."""
    from . import backup
    try:
        m = backup.restore(path, force=force)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    rows = sum(t["rows"] for t in m["tables"].values())
    click.echo(f"Đã khôi phục {rows} dòng và {len(m['files'])} tệp từ {path} (tạo lúc {m['created_at']}).")


@click.command("revoke-key")
@click.argument("kid")
@with_appcontext
def revoke_key_cmd(kid):
    """Stop the QR key KID (e.g. leaked) from signing and verifying; the sheets it signed go to review."""
    from . import qrkeys
    if not qrkeys.revoke(kid):
        raise click.ClickException(f"Không có khóa ký mã QR đang dùng với mã {kid}.")
    click.echo(f"Đã thu hồi khóa {kid}: phiếu mang mã khóa này không còn được xác minh. "
               f"Khóa ký hiện tại: {qrkeys.signing_key().kid}.")


@click.command("rotate-keys")
@click.option("--session-secret", is_flag=True,
              help="Also replace the session secret in the instance folder: every session ends (all users sign in "
                   "again). Printed sheets keep verifying.")
@with_appcontext
def rotate_keys_cmd(session_secret):
    """Make a new QR signing key for new sheets (older keys keep verifying printed sheets)."""
    import os
    from flask import current_app
    from . import config, qrkeys
    if session_secret and os.environ.get("NOICUTRU_SECRET_KEY"):
        raise click.ClickException("Khóa phiên đang đặt bằng biến môi trường NOICUTRU_SECRET_KEY: hãy đặt giá trị mới "
                                   "cho biến này trên mọi máy rồi khởi động lại. Chưa thay đổi khóa nào.")
    kid = qrkeys.rotate()
    click.echo(f"Khóa ký mã QR mới: {kid}. Phiếu in từ nay mang mã khóa này; phiếu đã in vẫn được xác minh.")
    if session_secret:
        config.replace_instance_secret(Path(current_app.instance_path))
        click.echo("Đã thay khóa phiên: khởi động lại mọi tiến trình noicutru; mọi người dùng phải đăng nhập lại.")


@click.command("create-admin")
@click.argument("username")
@click.option("--full-name", default="")
@click.option("--password", envvar="NOICUTRU_ADMIN_PASSWORD", help="Or set NOICUTRU_ADMIN_PASSWORD; asked if absent.")
@with_appcontext
def create_admin_cmd(username, full_name, password):
    """Create an administrator (the only way to get the first one outside demo mode)."""
    from .users.admin import create_user
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
@click.option("--days", type=int, default=None, help="Lifetime in days (default NOICUTRU_TOKEN_DAYS, 90).")
@with_appcontext
def create_token_cmd(username, name, days):
    """Print a new API token for USERNAME."""
    from .auth import new_api_token
    from .errors import ServiceError
    sess = db.session()
    user = sess.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"Không có người dùng {username}.")
    try:
        token, _row = new_api_token(sess, user, name, days)
    except ServiceError as err:
        raise click.ClickException(err.message) from None
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


@click.command("audit-verify")
@with_appcontext
def audit_verify_cmd():
    """Walk the audit log's hash chain: "OK, N entries" (exit 0) or the first broken link (exit 1)."""
    from . import audit
    report = audit.verify(db.session())
    if report.ok:
        click.echo(f"OK, {report.count} entries")
        return
    e = report.broken
    what = "liên kết với mục trước" if report.reason == "prev_hash" else "nội dung"
    click.echo(f"BROKEN: nhật ký thay đổi bị sửa tại mục #{e.id} (lúc {e.at:%Y-%m-%d %H:%M:%S} UTC): {what} không khớp "
               f"chuỗi băm; {report.count} mục trước đó còn nguyên vẹn.", err=True)
    sys.exit(1)


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
    from .users.admin import create_user
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
        from . import qrkeys
        qrkeys.ensure()
        _check_builtin_templates()
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


COMMANDS = [db_upgrade_cmd, rotate_keys_cmd, revoke_key_cmd, backup_cmd, restore_cmd, create_admin_cmd, create_token_cmd,
            import_cmd, generate_cmd, scan_cmd, run_jobs_cmd, serve_cmd, worker_cmd, jobs_resume_cmd, audit_verify_cmd]


def register(app) -> None:
    for cmd in COMMANDS:
        app.cli.add_command(cmd)


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help="noicutru: quản lý đảng viên theo Quy định 213-QĐ/TW.")(prog_name="noicutru")
