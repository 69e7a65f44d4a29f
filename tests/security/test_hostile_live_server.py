"""The real server (``python -m service serve``, in-process job worker) takes every hostile workbook
over HTTP, answers each with its code, and keeps running: the next normal request succeeds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support import hostile_files as hf
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "NOICUTRU_INSTANCE_DIR": str(tmp_path / "instance"), "NOICUTRU_LOGIN_DELAY": "0",
           "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "service"]
    subprocess.run(cmd + ["db-upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(cmd + ["create-admin", "quantri", "--full-name", "Quản trị", "--password", "mat-khau-dai-1"],
                   env=env, check=True, capture_output=True)
    token = subprocess.run(cmd + ["create-token", "quantri"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1]
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(cmd + ["serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.3)
    yield {"url": base, "token": token, "proc": proc, "storage": tmp_path / "instance" / "storage"}
    proc.terminate()
    proc.wait(15)
    log.close()


def _request(server, method: str, path: str, *, file: tuple[str, bytes] | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {server['token']}"}
    body = None
    if file is not None:
        boundary = uuid.uuid4().hex
        name, data = file
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    req = urllib.request.Request(server["url"] + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _stored_files(server) -> list[str]:
    store = server["storage"]
    return sorted(str(p) for p in store.rglob("*") if p.is_file()) if store.exists() else []


def test_server_survives_every_hostile_workbook(server):
    before = _stored_files(server)
    for case, (make, code) in sorted(hf.HOSTILE_WORKBOOKS.items()):
        status, body = _request(server, "POST", "/api/imports", file=(f"{case}.xlsx", make()))
        assert (status, body["error"]["code"]) == (400, code), (case, body)
        assert server["proc"].poll() is None, f"server died on {case}"
        status, me = _request(server, "GET", "/api/me")
        assert status == 200 and me["username"] == "quantri", case
        status, imports = _request(server, "GET", "/api/jobs")
        assert status == 200 and imports["items"] == [], case
    assert _stored_files(server) == before
    # and an honest workbook is still taken
    status, body = _request(server, "POST", "/api/imports", file=("ds.xlsx", hf.plain_xlsx()))
    assert status == 201 and body["status"] == "previewed", body
