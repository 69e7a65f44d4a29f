"""The ``noicutru`` entry point and ``noicutru serve``: the two places that make the app themselves
(every other command runs in the app the entry point made, see :mod:`service.cli`)."""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from . import create_app, migrate
from .cli import DEMO_PASSWORD, check_builtin_templates, ensure_demo_data
from .jobs.inprocess import start_worker


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
        check_builtin_templates()
    if demo:
        ensure_demo_data(app)
    if app.config["JOB_RUNNER"] == "inprocess":
        start_worker(app)
    import signal
    # SIGTERM (systemd, Ctrl-C in a supervisor, a test) ends the process normally, so that its
    # exit handlers run (the LibreOffice instance used for PDFs is closed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"noicutru đang chạy tại http://{host}:{port}/")
    if demo:
        click.echo(f"Đăng nhập dùng thử: admin / {DEMO_PASSWORD}  (cán bộ đảng ủy: canbo, bí thư chi bộ: bithu; cùng mật khẩu)")
    sys.stdout.flush()
    waitress.serve(app, host=host, port=port, threads=threads, ident="noicutru")


def main() -> None:
    group = FlaskGroup(create_app=lambda: create_app(), help="noicutru: quản lý đảng viên theo Quy định 213-QĐ/TW.")
    group.add_command(serve_cmd)
    group(prog_name="noicutru")
