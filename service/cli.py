"""Commands of the command line (``noicutru COMMAND`` or ``flask --app service COMMAND``), registered on
every app; ``serve`` and the ``noicutru`` entry point, which make the app, are in :mod:`service.server`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from flask.cli import with_appcontext
from sqlalchemy import select

from . import db, migrate
from .jobs.inprocess import run_pending
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
    check_builtin_templates()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


def check_builtin_templates() -> None:
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
                run_pending()
            marker.write_text("1")
        for username, role, kind, name in (("canbo", "workplace_staff", "workplace_committee", "Cán bộ đảng ủy (dùng thử)"),
                                           ("bithu", "cell_secretary", "residence_cell", "Bí thư chi bộ (dùng thử)")):
            if sess.scalar(select(User).where(User.username == username)) is None:
                org = sess.scalar(select(Organisation).where(Organisation.kind == kind).order_by(Organisation.id))
                if org is not None:
                    create_user(sess, username, DEMO_PASSWORD, role, org.id, name)


COMMANDS = [db_upgrade_cmd, rotate_keys_cmd, revoke_key_cmd, backup_cmd, restore_cmd, audit_verify_cmd]
# each feature's commands live in its package (``<feature>/cli.py``, a COMMANDS list)
FEATURE_CLIS = ("users", "importing", "documents", "scans", "jobs", "campaigns")


def register(app) -> None:
    import importlib
    commands = list(COMMANDS)
    for feature in FEATURE_CLIS:
        commands += importlib.import_module(f"{__package__}.{feature}.cli").COMMANDS
    for cmd in commands:
        app.cli.add_command(cmd)
