"""Scale-out benchmark: Celery workers on Redis with PostgreSQL, and a load test of the web service.

    python bench/scale.py                       # 200 pages; 50 uploads while 20 users browse

1. The same scan batch (``--pages`` pages, one per member, each with its member's signed QR)
   read by 1 and then by 2 worker processes (``noicutru worker --concurrency 1`` each), on a
   fresh PostgreSQL schema each time: pages per minute and the speed-up.
2. The web service under gunicorn (127.0.0.1, ``--web-workers`` processes of 8 threads) with
   2 job workers running: ``--uploads`` concurrent scan uploads while ``--users`` users browse
   (member search, a member, the job list), each user making ``--requests`` requests.
   Prints the error count (exceptions and non-2xx answers) and latency percentiles.

Everything runs on loopback: a redis-server of its own (free port, nothing on disk) and the
PostgreSQL server at NOICUTRU_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test), in
schemas it drops at the end. Ends with one JSON line: pages_per_min_1, pages_per_min_2,
speedup, errors, p95_ms.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["OMP_THREAD_LIMIT"] = "1"

from sqlalchemy import create_engine, text  # noqa: E402

PG_BASE = os.environ.get("NOICUTRU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-scale-secret-key-0123456789abcdef"
YEAR = 2026


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


class Setup:
    """A fresh schema with the members and their sheets, the environment of its processes."""

    def __init__(self, workdir: Path, redis_url: str, tag: str):
        self.schema = f"nct_bench_{tag}_{os.getpid()}"
        eng = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        eng.dispose()
        self.url = f"{PG_BASE}?options=-csearch_path%3D{self.schema}"
        self.dir = workdir / tag
        self.env = {**os.environ, "DATABASE_URL": self.url, "NOICUTRU_JOB_RUNNER": "celery",
                    "NOICUTRU_CELERY_BROKER": redis_url, "NOICUTRU_STORAGE_DIR": str(self.dir / "storage"),
                    "NOICUTRU_INSTANCE_DIR": str(self.dir / "instance"), "NOICUTRU_SECRET_KEY": SECRET,
                    "PYTHONPATH": str(ROOT), "NOICUTRU_RATELIMIT_ENABLED": "0"}
        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("NOICUTRU_", "DATABASE_URL"))})
        from service import create_app, migrate
        self.app = create_app()
        with self.app.app_context():
            migrate.upgrade()
        self.procs: list[subprocess.Popen] = []

    def start_workers(self, n: int) -> None:
        for k in range(n):
            log = (self.dir / f"worker-{len(self.procs)}.log").open("wb")
            proc = subprocess.Popen([sys.executable, "-m", "service", "worker", "--concurrency", "1",
                                     "--loglevel", "WARNING", "--hostname", f"bench{len(self.procs)}@%h"],
                                    cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            self.procs.append(proc)
        deadline = time.time() + 60
        while time.time() < deadline:  # every worker connected and answering
            replies = self.app.extensions["celery"].control.ping(timeout=1.0) or []
            if len(replies) >= len(self.procs):
                break
            time.sleep(0.5)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs = []
        from service import db
        with self.app.app_context():
            db.engine().dispose()
        eng = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
        eng.dispose()


def read_batch(workdir: Path, redis_url: str, pages: int, workers: int) -> tuple[float, dict]:
    from service import db
    from service.models import Job
    from service.scans import intake
    from tests.support import scan_batch
    setup = Setup(workdir, redis_url, f"w{workers}")
    try:
        with setup.app.app_context():
            sess = db.session()
            user, members = scan_batch.seed(sess, pages, YEAR)
            files = scan_batch.pages(sess, members, YEAR)
            # Not part of the throughput: the scan layout of each template version is built once
            # per installation (LibreOffice), and workers start and connect before work arrives.
            from service.documents.templates_store import sync_builtin
            sync_builtin(sess, force=True)  # registers the built-in versions and stores their layouts
            setup.start_workers(workers)
            t0 = time.perf_counter()
            batch = intake.start_batch(sess, user, files)
            deadline = time.time() + 60 * 30
            while time.time() < deadline:
                with db.new_session() as s:
                    job = s.get(Job, batch.job_id)
                    if job.state in ("done", "failed", "cancelled"):
                        break
                time.sleep(0.25)
            elapsed = time.perf_counter() - t0
            if job.state != "done":
                raise SystemExit(f"batch did not finish: {job.state} {job.error}")
            summary = dict((job.result or {}).get("pages") or {})
    finally:
        setup.stop()
    return pages / elapsed * 60, {"seconds": round(elapsed, 1), "pages": summary}


def multipart(fields: dict, files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
    for field, name, data in files:
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def load_test(workdir: Path, redis_url: str, uploads: int, users: int, requests_per_user: int,
              web_workers: int) -> dict:
    from service import db
    from service.auth import new_api_token
    from tests.support import scan_batch
    setup = Setup(workdir, redis_url, "web")
    gunicorn = None
    try:
        with setup.app.app_context():
            sess = db.session()
            user, members = scan_batch.seed(sess, max(uploads, 50), YEAR)
            files = scan_batch.pages(sess, members[:uploads], YEAR)
            token, _row = new_api_token(sess, user, "bench")
            sess.commit()
            member_ids = [m.id for m in members]
        setup.start_workers(2)
        port = free_port()
        gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                     "--workers", str(web_workers), "--threads", "8", "--worker-class", "gthread",
                                     "--timeout", "120", "service:create_app()"],
                                    cwd=ROOT, env=setup.env, stdout=(setup.dir / "gunicorn.log").open("wb"),
                                    stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        lock = threading.Lock()
        latencies: dict[str, list[float]] = {"upload": [], "browse": []}
        errors: list[str] = []

        def call(kind: str, req: urllib.request.Request) -> None:
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    resp.read()
                    ok = 200 <= resp.status < 300
                    why = str(resp.status)
            except urllib.error.HTTPError as exc:
                ok, why = False, f"{exc.code} {exc.read()[:200]!r}"
            except Exception as exc:  # noqa: BLE001 - every failure counts
                ok, why = False, repr(exc)
            with lock:
                latencies[kind].append(time.perf_counter() - t)
                if not ok:
                    errors.append(f"{kind} {req.full_url}: {why}")

        start = threading.Barrier(uploads + users)

        def uploader(k: int) -> None:
            body, ctype = multipart({"auto_apply": "1"}, [("files", files[k][0], files[k][1])])
            start.wait()
            call("upload", urllib.request.Request(f"{base}/api/scans", data=body, method="POST",
                                                  headers={**auth, "Content-Type": ctype}))

        def browser(k: int) -> None:
            paths = ["/api/members?q=nguyen", f"/api/members/{member_ids[k % len(member_ids)]}", "/api/jobs",
                     "/api/members?q=tran%20thi", "/api/organisations", "/api/me"]
            start.wait()
            for r in range(requests_per_user):
                call("browse", urllib.request.Request(base + paths[(k + r) % len(paths)], headers=auth))

        threads = [threading.Thread(target=uploader, args=(k,)) for k in range(uploads)]
        threads += [threading.Thread(target=browser, args=(k,)) for k in range(users)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        wall = time.perf_counter() - t0
    finally:
        if gunicorn is not None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(30)
        setup.stop()
    every = latencies["upload"] + latencies["browse"]

    def pct(values: list[float], q: float) -> float:
        return round(1000 * statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1) if len(values) > 1 \
            else round(1000 * (values[0] if values else 0.0), 1)
    return {"requests": len(every), "errors": len(errors), "error_samples": errors[:5], "wall_s": round(wall, 1),
            "p50_ms": pct(every, 50), "p95_ms": pct(every, 95),
            "upload_p95_ms": pct(latencies["upload"], 95), "browse_p95_ms": pct(latencies["browse"], 95)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--uploads", type=int, default=50)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--requests", type=int, default=10, help="requests per browsing user")
    ap.add_argument("--web-workers", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="noicutru-scale-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
        try:
            wait_port(port)
            redis_url = f"redis://127.0.0.1:{port}/0"
            ppm1, info1 = read_batch(workdir, redis_url, args.pages, 1)
            print(f"1 worker process:  {args.pages} pages in {info1['seconds']} s = {ppm1:.1f} pages/min {info1['pages']}")
            ppm2, info2 = read_batch(workdir, redis_url, args.pages, 2)
            print(f"2 worker processes: {args.pages} pages in {info2['seconds']} s = {ppm2:.1f} pages/min {info2['pages']}")
            speedup = ppm2 / ppm1
            print(f"speed-up: {speedup:.2f} (goal: at least 1.8 on 2 cores; this machine has {os.cpu_count()} cores)")
            web = load_test(workdir, redis_url, args.uploads, args.users, args.requests, args.web_workers)
            print(f"web: {args.uploads} concurrent uploads while {args.users} users browse: {web['requests']} requests "
                  f"in {web['wall_s']} s, {web['errors']} errors, p50 {web['p50_ms']} ms, p95 {web['p95_ms']} ms "
                  f"(uploads p95 {web['upload_p95_ms']} ms, browsing p95 {web['browse_p95_ms']} ms)")
            for sample in web["error_samples"]:
                print(f"  ! {sample}")
        finally:
            redis.kill()
            redis.wait(10)
    print(json.dumps({"pages_per_min_1": round(ppm1, 1), "pages_per_min_2": round(ppm2, 1),
                      "speedup": round(speedup, 2), "errors": web["errors"], "p95_ms": web["p95_ms"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
