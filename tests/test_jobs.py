"""Jobs: the table, the in-process worker, progress, cancel, failures, and atomic claiming."""
import threading
import time

from service import db
from service.jobs import inprocess, record as jobs
from service.models import Job

seen: list[int] = []


@jobs.job_function("test_count", "Đếm thử")
def count_job(ctx, params):
    n = params["n"]
    ctx.set_total(n)
    for i in range(n):
        if params.get("slow"):
            time.sleep(params["slow"])
        ctx.check_cancel()
        seen.append(i)
        ctx.progress(i + 1, f"Đã đếm {i + 1}")
    return {"counted": n}


@jobs.job_function("test_fail")
def failing_job(ctx, params):
    raise jobs.JobFailed("bad_thing", "Dòng 3 có lỗi.", {"row": 3})


@jobs.job_function("test_crash")
def crashing_job(ctx, params):
    raise RuntimeError("boom")


def enqueue(kind, **params):
    sess = db.session()
    job = jobs.enqueue(sess, kind, params)
    sess.commit()
    return job.id


def test_in_process_worker_runs_job_with_progress(app):
    job_id = enqueue("test_count", n=5)
    worker = inprocess.start_worker(app)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with db.new_session() as s:
                job = s.get(Job, job_id)
                if job.state in ("done", "failed"):
                    break
            time.sleep(0.1)
    finally:
        worker.stop()
        worker.join(5)
    assert job.state == "done"
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.result == {"counted": 5} and job.percent == 100


def test_cancel_queued_and_running(app, make_user, login):
    admin = make_user("admin")
    client = login(admin)
    job_id = enqueue("test_count", n=3)
    resp = client.post(f"/api/jobs/{job_id}/cancel")
    assert resp.get_json()["state"] == "cancelled"
    assert inprocess.run_pending() == 0  # nothing left to run

    job_id = enqueue("test_count", n=200, slow=0.01)
    t = threading.Thread(target=lambda: _run_in_context(app))
    t.start()
    _wait_state(job_id, "running")
    client.post(f"/jobs/{job_id}/cancel")
    t.join(30)
    with db.new_session() as s:
        job = s.get(Job, job_id)
        assert job.state == "cancelled" and job.progress_done < 200


def _run_in_context(app):
    with app.app_context():
        inprocess.run_pending()


def _wait_state(job_id, state, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with db.new_session() as s:
            if s.get(Job, job_id).state == state:
                return
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached {state}")


def test_failed_job_keeps_a_clear_message(app, make_user, login):
    client = login(make_user("admin"))
    fail_id, crash_id = enqueue("test_fail"), enqueue("test_crash")
    inprocess.run_pending()
    failed = client.get(f"/api/jobs/{fail_id}").get_json()
    assert failed["state"] == "failed" and failed["error"]["message"] == "Dòng 3 có lỗi."
    crashed = client.get(f"/api/jobs/{crash_id}").get_json()
    assert crashed["state"] == "failed" and crashed["error"]["code"] == "internal_error"
    page = client.get(f"/jobs/{fail_id}").get_data(as_text=True)
    assert "Dòng 3 có lỗi." in page and "Lỗi" in page


def test_claiming_is_atomic_across_threads(app):
    ids = [enqueue("test_count", n=1) for _ in range(30)]
    claimed: list[int] = []
    lock = threading.Lock()

    def claimer(k):
        with app.app_context():
            while True:
                job_id = inprocess.claim_next(f"t{k}")
                if job_id is None:
                    return
                with lock:
                    claimed.append(job_id)

    threads = [threading.Thread(target=claimer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == sorted(ids)  # every job once, none twice


def test_jobs_of_others_are_hidden(app, make_user, login, orgs):
    admin = make_user("admin")
    job_id = enqueue("test_count", n=1)
    with db.new_session() as s:
        s.get(Job, job_id).created_by = admin.id
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    assert staff.get(f"/api/jobs/{job_id}").status_code == 403
    assert staff.get("/api/jobs").get_json()["items"] == []


def test_orphaned_running_job_is_requeued(app):
    job_id = enqueue("test_count", n=2)
    with db.new_session() as s:
        job = s.get(Job, job_id)
        import socket
        job.state, job.worker = "running", f"{socket.gethostname()}:999999:1"
    assert inprocess.requeue_orphans() == 1
    assert inprocess.run_pending() == 1
    with db.new_session() as s:
        assert s.get(Job, job_id).state == "done"
