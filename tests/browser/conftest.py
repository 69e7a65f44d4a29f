"""A real server (``python -m service serve``) on a free port, and headless Debian Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.services import require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path():
    require(None if os.path.exists(CHROMIUM) else
            "Chromium is not installed (apt-get install chromium; scripts/install.sh does it)")
    return CHROMIUM


@pytest.fixture
def live_server(tmp_path):
    """Start the service as a user would, with an administrator made by the CLI."""
    port = _free_port()
    env = {**os.environ, "NOICUTRU_INSTANCE_DIR": str(tmp_path / "instance"), "NOICUTRU_ADMIN_PASSWORD": "mat-khau-trinh-duyet"}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "service"]
    subprocess.run(cmd + ["db-upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(cmd + ["create-admin", "admin", "--full-name", "Quản trị"], env=env, check=True, capture_output=True)
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(cmd + ["serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.2)
    yield {"url": base, "username": "admin", "password": "mat-khau-trinh-duyet", "env": env, "tmp": tmp_path}
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.fixture
def page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(30000)
        csp_violations: list[str] = []  # the pages need no inline script or style (service/http_security.py)
        pg.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
        yield pg
        browser.close()
        assert not csp_violations, csp_violations
