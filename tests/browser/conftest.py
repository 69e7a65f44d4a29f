"""Real servers (``python -m service serve``) on free ports, and headless Debian Chromium.

What takes seconds is done once and shared by the browser tests: the instances (migrated with
their administrator; the same with the sample workbook imported; the demo) are built once, in one
process, and copied for each test, which gets a server of its own on its copy; Chromium is launched once and each test
gets a fresh browser context; the demo server of the page walk starts once. All of it is closed
after the last browser test, before the rest of the suite runs.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.services import require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SAMPLE = ROOT / "samples" / "members.xlsx"
ADMIN = {"username": "admin", "password": "mat-khau-trinh-duyet"}
DEMO_PASSWORD = "dangvien213"  # service.cli.DEMO_PASSWORD: the demo sign-ins canbo and bithu

_shared: dict = {}  # what the browser tests share, by name
_closers: list = []  # how to close it, in the order it was opened


def _once(key: str, make):
    if key not in _shared:
        _shared[key] = make()
    return _shared[key]


def _close_shared() -> None:
    while _closers:
        _closers.pop()()
    _shared.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last browser test (the next test is elsewhere, or none): close the browser and servers."""
    result = yield
    if nextitem is None or HERE not in Path(nextitem.path).parents:
        _close_shared()
    return result


def pytest_sessionfinish(session):
    _close_shared()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(instance: Path) -> dict:
    env = {**os.environ, "NOICUTRU_INSTANCE_DIR": str(instance), "NOICUTRU_ADMIN_PASSWORD": ADMIN["password"]}
    env.pop("DATABASE_URL", None)
    return env


def build_instances(root: str) -> None:
    """The instances the browser tests copy, made by the service's own commands in a process of their
    own (its environment from ``_env(root/work)``): root/empty (migrated, with the administrator of
    ``create-admin``), root/sample (the same with the sample workbook imported by ``import``),
    root/demo (the sample with the demo sign-ins and records for the detail pages, see ``seed_demo``),
    and root/views.json (the service's pages: rule, view)."""
    work = Path(root) / "work"
    from service import create_app, db
    app = create_app({"START_WORKER": False})
    cli = app.test_cli_runner()
    views = [[r.rule, r.endpoint] for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]
    (Path(root) / "views.json").write_text(json.dumps(views))  # for the walk: which view shows a URL

    def run(*args: str) -> None:
        result = cli.invoke(args=list(args))
        assert result.exit_code == 0, (args, result.output, result.exception)

    def keep(name: str) -> None:
        with app.app_context():
            db.engine().dispose()  # every connection closed: the SQLite file is whole on disk
        shutil.copytree(work, Path(root) / name)

    run("db-upgrade")
    run("create-admin", ADMIN["username"], "--full-name", "Quản trị")
    keep("empty")
    run("import", str(SAMPLE), "--as-user", ADMIN["username"], "--yes")
    keep("sample")
    seed_demo(app)
    keep("demo")


def _instance(kind: str, factory) -> Path:
    """A built instance ("empty", "sample" or "demo", see ``build_instances``), made once; tests get copies."""
    def make() -> Path:
        root = factory.mktemp("instances")
        done = subprocess.run([sys.executable, "-c", f"from tests.browser.conftest import build_instances; "
                               f"build_instances({str(root)!r})"], env=_env(root / "work"), capture_output=True,
                              text=True, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(f"building the test instances failed:\n{done.stdout}\n{done.stderr}")
        return root
    return _once("instances", make) / kind


def _serve(instance: Path, log_path: Path, *args: str):
    """Start the service as a user would; return the process and its address once it answers."""
    port = _free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(port), *args],
                            env=_env(instance), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(log_path.read_text())
            time.sleep(0.1)  # polling for the port, not waiting a fixed time

    def reap():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: the server's threads finish late
            proc.kill()
            proc.wait(10)
        log.close()

    def stop():  # the next test need not wait for this server to finish: it is reaped with the browser
        proc.terminate()
        _closers.append(reap)
    return base, stop


def _server_on_copy(kind: str, tmp_path: Path, factory):
    instance = tmp_path / "instance"
    shutil.copytree(_instance(kind, factory), instance)
    base, stop = _serve(instance, tmp_path / "server.log")
    yield {"url": base, **ADMIN, "env": _env(instance), "tmp": tmp_path}
    stop()


@pytest.fixture
def live_server(tmp_path, tmp_path_factory):
    """A server of this test's own on a new instance: migrated, with an administrator made by the CLI."""
    yield from _server_on_copy("empty", tmp_path, tmp_path_factory)


@pytest.fixture
def sample_server(tmp_path, tmp_path_factory):
    """As ``live_server``, with the sample workbook already imported by the CLI as the administrator."""
    yield from _server_on_copy("sample", tmp_path, tmp_path_factory)


def seed_demo(app) -> None:
    """The demo sign-ins (admin, canbo, bithu) and records for the detail pages: a meeting with
    attendance, an issued letter and sheet, in the cell of the demo secretary (so that every role
    reaches them)."""
    from sqlalchemy import select

    from service import db
    from service.cli import ensure_demo_data
    from service.documents.letters import issue_introduction
    from service.documents.sheets import ensure_sheet
    from service.meetings.logic import create_meeting, record_attendance
    from service.models import Member, User
    (Path(app.instance_path) / "demo-data-loaded").write_text("1")  # the sample is in: not loaded again
    ensure_demo_data(app)
    with app.app_context():
        sess = db.session()
        bithu = sess.scalar(select(User).where(User.username == "bithu"))
        admin = sess.scalar(select(User).where(User.username == "admin"))
        members = sess.scalars(select(Member).where(Member.residence_cell_id == bithu.organisation_id)).all()
        meeting = create_meeting(sess, bithu, bithu.organisation_id, dt.date.today().strftime("%d/%m/%Y"),
                                 "Sinh hoạt định kỳ")
        record_attendance(sess, bithu, meeting, {m.id: ("present", "") for m in members})
        if members:
            issue_introduction(sess, admin, members[0])
            ensure_sheet(sess, members[0], dt.date.today().year, user=admin)
        sess.commit()


@pytest.fixture
def demo_server(tmp_path_factory):
    """``serve --demo`` on a copy of the demo instance, one for the whole run (the walk only reads).
    Passwords by user name."""
    def make():
        tmp = tmp_path_factory.mktemp("demo")
        instance = tmp / "instance"
        shutil.copytree(_instance("demo", tmp_path_factory), instance)
        base, stop = _serve(instance, tmp / "server.log", "--demo")
        _closers.append(stop)
        return {"url": base, "instance": instance,
                "views": json.loads((_instance("demo", tmp_path_factory).parent / "views.json").read_text()),
                "passwords": {ADMIN["username"]: ADMIN["password"], "canbo": DEMO_PASSWORD, "bithu": DEMO_PASSWORD}}
    return _once("demo", make)


@pytest.fixture(scope="session")
def chromium_path():
    require(None if os.path.exists(CHROMIUM) else
            "Chromium is not installed (apt-get install chromium; scripts/install.sh does it)")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path):
    """Headless Chromium, launched once for all the browser tests."""
    def make():
        from playwright.sync_api import sync_playwright
        playwright = sync_playwright().start()
        _closers.append(playwright.stop)
        launched = playwright.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        _closers.append(launched.close)
        return launched
    return _once("browser", make)


@pytest.fixture
def page(browser):
    """A page in a fresh browser context (no cookies from another test), desktop size, Vietnamese locale."""
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30000)
    csp_violations: list[str] = []  # the pages need no inline script or style (service/http_security.py)
    pg.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert not csp_violations, csp_violations
