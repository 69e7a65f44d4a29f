"""Every page, as each role sees it, at desktop and phone size (390x844) in headless Chromium.

The walk starts at the home page and follows the links it finds (menu and content), so pages added
later are covered without listing them. On each page: it opens (no error), shows no internal English
name (form-definition keys, stored states, True/False/None), needs no inline script or style, has no
table wider than the screen, has its line of help, and axe-core finds no serious or critical
accessibility violation (labels, contrast, keyboard focus).
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.browser.page_checks import axe_violations, english_words, inline_code, overflow, serve_axe

pytestmark = pytest.mark.browser
ROLES = {"admin": "admin", "workplace_staff": "canbo", "cell_secretary": "bithu"}
SKIP = re.compile(r"(logout|\.(xlsx|docx|pdf|png|zip|json)$|/result$|/export)")
PER_PATTERN = 1  # pages of the same shape (/members/<n>) visited per role
MAX_PAGES = 40
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PHONE_AXE_PAGES = 4  # the phone layout is one stylesheet: its first pages show its menu, cards and forms


@pytest.fixture
def view_of(demo_server):
    """The view (endpoint, so page template) a URL of the service shows: axe-core checks each view once,
    whatever its ids and query (the other checks run on every page visited)."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map, Rule
    adapter = Map([Rule(rule, endpoint=view) for rule, view in demo_server["views"]]).bind("127.0.0.1")

    def view(url: str) -> str:
        try:
            return adapter.match(urlsplit(url).path, method="GET")[0]
        except HTTPException:
            return _pattern(url)
    return view


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(sorted(q.split("=")[0] for q in parts.query.split("&") if q))
    return re.sub(r"\d+", "N", parts.path) + ("?" + query if query else "")


def _sign_in(page, server: dict, username: str) -> None:
    page.goto(server["url"] + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", server["passwords"][username])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    return [h.split("#")[0] for h in hrefs if h.startswith(base) and not SKIP.search(urlsplit(h).path)]


AXE_CHECKED: set[str] = set()  # views already checked by axe-core (by an earlier role)


def walk(context, server: dict, username: str, view_of) -> tuple[list[str], list[str]]:
    """Visit every page reachable from the home page; check each at desktop size, then at phone size
    (the same page, the viewport narrowed: the phone stylesheet applies without loading it again)."""
    base = server["url"]
    page = context.new_page()
    page.on("dialog", lambda d: d.dismiss())
    _sign_in(page, server, username)
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
        view = view_of(url)
        first_time = view not in AXE_CHECKED
        if first_time:
            problems += [f"{where}: axe {v}" for v in axe_violations(page)]
        queue += [u for u in _links(page, base) if u not in visited]
        page.set_viewport_size(PHONE)
        problems += [f"{where} (phone): too wide: {o}" for o in overflow(page)]
        if first_time and len(AXE_CHECKED) < PHONE_AXE_PAGES:
            problems += [f"{where} (phone): axe {v}" for v in axe_violations(page)]
        AXE_CHECKED.add(view)
    page.close()
    return visited, problems


def phone_menu(browser, base: str, signed_in: dict) -> list[str]:
    """On a phone the menu folds behind its button and a tap opens it (signed in as in the walk)."""
    context = browser.new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True,
                                  storage_state=signed_in)
    page = context.new_page()
    page.goto(base + "/")
    problems = [f"phone: signed out ({page.url})"] if page.url.startswith(base + "/login") else []
    nav = page.locator("#main-menu")
    if nav.is_visible():
        problems.append("phone: the menu is not folded")
    page.tap("#menu-toggle")
    if not nav.is_visible() or page.get_attribute("#menu-toggle", "aria-expanded") != "true":
        problems.append("phone: the menu button does not open the menu")
    context.close()
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_reads_vietnamese_fits_a_phone_and_is_accessible(demo_server, browser, view_of, role):
    started = time.time()
    context = browser.new_context(locale="vi-VN", viewport=DESKTOP, bypass_csp=True)  # axe-core is injected
    serve_axe(context)
    visited, problems = walk(context, demo_server, ROLES[role], view_of)
    signed_in = context.storage_state()
    context.close()
    problems += phone_menu(browser, demo_server["url"], signed_in)
    assert len(visited) >= {"admin": 12, "workplace_staff": 10, "cell_secretary": 6}[role], visited
    assert not problems, "\n".join(problems)
    print(f"{role}: {len(visited)} pages in {time.time() - started:.1f} s")
