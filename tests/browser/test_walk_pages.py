"""Every page, as each role sees it, at desktop and phone size (390x844) in headless Chromium.

The walk starts at the home page and follows the links it finds (menu and content), so pages added
later are covered without listing them. On each page: it opens (no error), shows no internal English
name (form-definition keys, stored states, True/False/None), needs no inline script or style, has no
table wider than the screen, has its line of help, and axe-core finds no serious or critical
accessibility violation (labels, contrast, keyboard focus).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.page_checks import axe_source, axe_violations, english_words, inline_code, overflow

pytestmark = pytest.mark.browser
PASSWORD = "dangvien213"  # service.cli.DEMO_PASSWORD
ROLES = {"admin": "admin", "workplace_staff": "canbo", "cell_secretary": "bithu"}
SKIP = re.compile(r"(logout|\.(xlsx|docx|pdf|png|zip|json)$|/result$|/export)")
PER_PATTERN = 1  # pages of the same shape (/members/<n>) visited per role
MAX_PAGES = 40
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PHONE_AXE_PAGES = 4  # the phone layout is one stylesheet: its first pages show its menu, cards and forms


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(instance: str) -> None:
    """Records for the detail pages: a meeting with attendance, an issued letter and sheet, in the
    cell of the demo secretary (so that every role reaches them)."""
    os.environ["NOICUTRU_INSTANCE_DIR"] = instance
    from sqlalchemy import select

    from service import create_app, db
    from service.documents.letters import issue_introduction
    from service.documents.sheets import ensure_sheet
    from service.meetings.logic import create_meeting, record_attendance
    from service.models import Member, User
    app = create_app({"START_WORKER": False})
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


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("walk")
    port = _free_port()
    env = {**os.environ, "NOICUTRU_INSTANCE_DIR": str(tmp / "instance")}
    env.pop("DATABASE_URL", None)
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--demo", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "server.log").read_text())
            time.sleep(0.2)
    subprocess.run([sys.executable, "-c", f"from tests.browser.test_walk_pages import _seed; _seed({str(tmp / 'instance')!r})"],
                   env=env, check=True, capture_output=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    yield base
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:  # a loaded machine: the server's threads finish late
        proc.kill()
        proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(sorted(q.split("=")[0] for q in parts.query.split("&") if q))
    return re.sub(r"\d+", "N", parts.path) + ("?" + query if query else "")


def _sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h.split("#")[0] for h in hrefs if h.startswith(base) and not SKIP.search(urlsplit(h).path)]


AXE_CHECKED: set[str] = set()  # page shapes already checked by axe-core (by an earlier role)


def walk(browser, base: str, username: str) -> tuple[list[str], list[str]]:
    """Visit every page reachable from the home page; check each at desktop size, then at phone size
    (the same page, the viewport narrowed: the phone stylesheet applies without loading it again)."""
    context = browser.new_context(locale="vi-VN", viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.on("dialog", lambda d: d.dismiss())
    _sign_in(page, base, username)
    axe = axe_source()
    problems: list[str] = []
    seen: dict[str, int] = {}
    queue, visited = [base + "/"], []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        pat = _pattern(url)
        if url in visited or seen.get(pat, 0) >= PER_PATTERN:
            continue
        seen[pat] = seen.get(pat, 0) + 1
        page.set_viewport_size(DESKTOP)
        response = page.goto(url)
        visited.append(url)
        where = url[len(base):]
        if response is None or response.status >= 400:
            problems.append(f"{where}: HTTP {response.status if response else '?'}")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if page.url.startswith(base + "/login"):
            problems.append(f"{where}: signed out")
            continue
        problems += [f"{where}: English «{w}»" for w in english_words(page)]
        problems += [f"{where}: {c}" for c in inline_code(response.text())]
        if not page.locator("#help-line").count():
            problems.append(f"{where}: no line of help")
        first_time = pat not in AXE_CHECKED
        if first_time:
            problems += [f"{where}: axe {v}" for v in axe_violations(page, axe)]
        queue += [u for u in _links(page, base) if u not in visited]
        page.set_viewport_size(PHONE)
        problems += [f"{where} (phone): too wide: {o}" for o in overflow(page)]
        if first_time and len(AXE_CHECKED) < PHONE_AXE_PAGES:
            problems += [f"{where} (phone): axe {v}" for v in axe_violations(page, axe)]
        AXE_CHECKED.add(pat)
    context.close()
    return visited, problems


def phone_menu(browser, base: str, username: str) -> list[str]:
    """On a phone the menu folds behind its button and a tap opens it."""
    context = browser.new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _sign_in(page, base, username)
    problems = []
    nav = page.locator("#main-menu")
    if nav.is_visible():
        problems.append("phone: the menu is not folded")
    page.tap("#menu-toggle")
    if not nav.is_visible() or page.get_attribute("#menu-toggle", "aria-expanded") != "true":
        problems.append("phone: the menu button does not open the menu")
    context.close()
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_reads_vietnamese_fits_a_phone_and_is_accessible(demo_server, browser, role):
    started = time.time()
    visited, problems = walk(browser, demo_server, ROLES[role])
    problems += phone_menu(browser, demo_server, ROLES[role])
    assert len(visited) >= {"admin": 12, "workplace_staff": 10, "cell_secretary": 6}[role], visited
    assert not problems, "\n".join(problems)
    print(f"{role}: {len(visited)} pages in {time.time() - started:.1f} s")
