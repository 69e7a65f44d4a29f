"""Every change is audited (who, when, what, before, after; no secrets), the log is append-only,
and ``noicutru audit-verify`` finds the first tampered entry. On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from service import audit, db
from service.models import AuditEntry, DocumentTemplate, Member, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def members(sess, orgs):
    out = []
    for i, name in enumerate(["Nguyễn Văn Ánh", "Trần Thị Hường"]):
        m = Member(card_number=f"80{i}", workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs["cell1"].id,
                   gender="male", date_of_birth=dt.date(1980 + i, 3, 4), admission_date=dt.date(2005, 1, 2),
                   house="Số 5", commune="Phường Hồng Hà", province="Quảng Ninh", status="active")
        m.set_name(name)
        sess.add(m)
        out.append(m)
    sess.commit()
    return out


def entries(sess, **where):
    sess.expire_all()
    return sess.scalars(select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)).all()


def one(sess, kind, action, **where):
    found = entries(sess, entity_kind=kind, action=action, **where)
    assert len(found) == 1, (kind, action, [(e.entity_kind, e.action) for e in entries(sess)])
    return found[0]


def verify_cli(app):
    return app.test_cli_runner(mix_stderr=False).invoke(args=["audit-verify"]) if _mix_stderr_supported() \
        else app.test_cli_runner().invoke(args=["audit-verify"])


def _mix_stderr_supported() -> bool:
    import inspect
    from click.testing import CliRunner
    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def output(result) -> str:
    return result.output + (getattr(result, "stderr", "") if _mix_stderr_supported() else "")


def test_every_kind_of_change_is_audited_with_who_before_and_after(app, sess, orgs, members, make_user, login):
    admin = make_user("quantri")
    secretary = make_user("bithu", role="cell_secretary", organisation=orgs["cell1"])
    client = login(admin)
    m = members[0]

    # members
    resp = client.post("/api/members", json={"full_name": "Lê Văn Mới", "card_number": "8099",
                                             "workplace_org_id": orgs["tax"].id})
    assert resp.status_code == 201
    new_id = resp.get_json()["id"]
    e = one(sess, "member", "create", entity_id=new_id)
    assert e.user_id == admin.id and e.before is None and e.after["card_number"] == "8099" and e.source == "api"
    assert client.patch(f"/api/members/{new_id}", json={"phone": "0912345678"}).status_code == 200
    e = one(sess, "member", "update", entity_id=new_id)
    assert (e.before["phone"], e.after["phone"], e.member_id) == (None, "0912345678", new_id)

    # organisations
    resp = client.post("/api/organisations", json={"name": "Chi bộ khu phố 9", "kind": "residence_cell",
                                                   "parent_id": orgs["ward"].id})
    org_id = resp.get_json()["id"]
    assert one(sess, "organisation", "create", entity_id=org_id).after["name"] == "Chi bộ khu phố 9"
    client.patch(f"/api/organisations/{org_id}", json={"secretary_name": "Phạm Văn Bí"})
    e = one(sess, "organisation", "update", entity_id=org_id)
    assert e.before["secretary_name"] is None and e.after["secretary_name"] == "Phạm Văn Bí" and e.user_id == admin.id

    # users: create, role, password, active; never the hash
    client.post("/users/", data={"username": "canbo2", "password": "mat-khau-dai-2", "role": "workplace_staff",
                                 "organisation_id": str(orgs["tax"].id), "full_name": "Cán Bộ"})
    staff2 = sess.scalar(select(User).where(User.username == "canbo2"))
    assert one(sess, "user", "create", entity_id=staff2.id).after["role"] == "workplace_staff"
    client.post(f"/users/{staff2.id}", data={"role": "workplace_staff", "organisation_id": str(orgs["hospital"].id),
                                             "full_name": "Cán Bộ", "password": "mat-khau-moi-3"})
    e = one(sess, "user", "update", entity_id=staff2.id)
    assert e.before["organisation_id"] == orgs["tax"].id and e.after["organisation_id"] == orgs["hospital"].id
    assert e.before["active"] is True and e.after["active"] is False  # the form left "active" unticked
    assert e.after["password_changed"] is True
    sess.refresh(staff2)
    for entry in entries(sess, entity_kind="user"):
        assert staff2.password_hash not in str(entry.before) + str(entry.after)
        assert "password_hash" not in str(entry.before) + str(entry.after)

    # tokens: the token itself is never kept
    token = client.post("/api/tokens", json={"name": "Máy chủ tỉnh"}).get_json()["token"]
    e = one(sess, "api_token", "create")
    assert e.user_id == admin.id and e.after["name"] == "Máy chủ tỉnh" and token not in str(e.after)

    # letters: issue, received by hand
    intro_id = client.post(f"/api/members/{m.id}/introductions").get_json()["id"]
    e = one(sess, "introduction", "issue", entity_id=intro_id)
    assert e.member_id == m.id and e.user_id == admin.id
    assert client.post(f"/documents/introductions/{intro_id}/received",
                       data={"received_on": "05/03/2026"}).status_code == 302
    e = one(sess, "introduction", "received", entity_id=intro_id)
    assert e.before == {"received_on": None} and e.after == {"received_on": "2026-03-05"} and e.user_id == admin.id

    # sheets: issue, void (and its replacement)
    ev_id = client.post(f"/api/members/{m.id}/evaluations", json={"year": 2026}).get_json()["id"]
    assert one(sess, "evaluation", "issue", entity_id=ev_id).member_id == m.id
    resp = client.post(f"/api/evaluations/{ev_id}/void", json={"reason": "Phiếu bị rách"})
    new_ev = resp.get_json()["replacement"]["id"]
    e = one(sess, "evaluation", "void", entity_id=ev_id)
    assert e.before["status"] == "issued" and e.after["status"] == "voided" and e.after["voided_reason"] == "Phiếu bị rách"
    assert one(sess, "evaluation", "replace", entity_id=new_ev).after["replaces_id"] == ev_id

    # meetings and attendance (the cell's secretary)
    cell_client = login(secretary)
    resp = cell_client.post("/meetings/", data={"cell_id": orgs["cell1"].id, "held_on": "10/04/2026",
                                                "title": "Sinh hoạt tháng 4"})
    meeting_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert one(sess, "meeting", "create", entity_id=meeting_id).user_id == secretary.id
    cell_client.post(f"/meetings/{meeting_id}", data={f"s_{m.id}": "absent", f"n_{m.id}": ""})
    e = one(sess, "attendance", "create", member_id=m.id)
    assert e.after["status"] == "absent" and e.user_id == secretary.id
    cell_client.post(f"/meetings/{meeting_id}", data={f"s_{m.id}": "excused", f"n_{m.id}": "Có đơn"})
    e = one(sess, "attendance", "update", member_id=m.id)
    assert (e.before["status"], e.after["status"]) == ("absent", "excused")

    # templates: upload, switch
    docx = (ROOT / "templates" / "introduction_letter.v1.docx").read_bytes()
    import io
    shipped = sess.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.kind == "introduction_letter"))
    resp = client.post("/api/templates", data={"kind": "introduction_letter",
                                               "file": (io.BytesIO(docx), "mau-moi.docx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    tid = resp.get_json()["id"]
    e = one(sess, "template", "upload", entity_id=tid)
    assert e.after["version"] == shipped + 1 and len(e.after["sha256"]) == 64
    client.post(f"/documents/templates/{tid}/toggle")
    e = one(sess, "template", "switch", entity_id=tid)
    assert (e.before["active"], e.after["active"]) == (True, False)
    assert sess.get(DocumentTemplate, tid).active is False

    # every entry names who did it, and the chain holds
    assert all(entry.user_id is not None for entry in entries(sess))
    result = verify_cli(app)
    assert result.exit_code == 0 and f"OK, {len(entries(sess))} entries" in result.output


def test_the_log_refuses_update_and_delete(app, sess, orgs, members, make_user, login):
    client = login(make_user("quantri"))
    client.patch(f"/api/members/{members[0].id}", json={"phone": "0912345678"})
    entry_id = entries(sess)[-1].id
    with pytest.raises(DBAPIError):
        with db.engine().begin() as conn:
            conn.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": entry_id})
    with pytest.raises(DBAPIError):
        with db.engine().begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entry_id})
    assert entries(sess)[-1].action == "update"


def _drop_triggers(app) -> None:
    db.session().rollback()  # end the test's read transaction: DROP TRIGGER waits for every reader
    with db.engine().begin() as conn:
        if app.backend == "postgres":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _restore_triggers(app) -> None:
    with db.engine().begin() as conn:
        if app.backend == "postgres":
            conn.execute(text("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                              "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"))


@pytest.mark.parametrize("tamper", ["edit_after", "delete_middle"])
def test_audit_verify_names_the_first_tampered_entry(app, sess, orgs, members, make_user, login, tamper):
    client = login(make_user("quantri"))
    for phone in ("0901000001", "0902000002", "0903000003", "0904000004"):
        assert client.patch(f"/api/members/{members[0].id}", json={"phone": phone}).status_code == 200
    ids = [e.id for e in entries(sess)]
    assert ids == list(range(1, 5))
    result = verify_cli(app)
    assert result.exit_code == 0 and "OK, 4 entries" in result.output
    _drop_triggers(app)
    try:
        with db.engine().begin() as conn:
            if tamper == "edit_after":  # a quiet edit of what the record became
                after = dict(entries(sess)[1].after, phone="0999000009")
                conn.execute(AuditEntry.__table__.update().where(AuditEntry.id == 2).values(after=after))
            else:
                conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
    finally:
        _restore_triggers(app)
    sess.expire_all()
    broken = 2 if tamper == "edit_after" else 3
    at = sess.get(AuditEntry, broken).at
    result = verify_cli(app)
    assert result.exit_code == 1
    assert f"#{broken} " in output(result) and f"{at:%Y-%m-%d %H:%M:%S}" in output(result)
    report = audit.verify(sess)
    assert not report.ok and report.broken.id == broken and report.count == 1


def test_concurrent_writers_do_not_fork_the_chain(app, sess, orgs, members, make_user):
    """Two writers appending at the same time: ids follow each other and every link holds."""
    user = make_user("quantri")
    errors: list[BaseException] = []

    def writer(member_id: int) -> None:
        try:
            with app.app_context():
                for k in range(15):
                    with db.new_session() as s:
                        member = s.get(Member, member_id)
                        before = member.snapshot()
                        member.phone = f"09{member_id}{k:03d}"
                        audit.record(s, "member", member, "update", before, member.snapshot(), user=user.id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(m.id,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    rows = entries(sess)
    assert [e.id for e in rows] == list(range(1, 31))
    assert all(b.prev_hash == a.entry_hash for a, b in zip(rows, rows[1:]))
    assert audit.verify(sess).ok


def test_import_job_records_the_job_and_the_user_who_confirmed_it(app, sess, make_user, login):
    import io
    from service.jobs.inprocess import run_pending
    admin = make_user("quantri")
    client = login(admin)
    data = (ROOT / "samples" / "members.xlsx").read_bytes()
    batch = client.post("/api/imports", data={"file": (io.BytesIO(data), "members.xlsx")},
                        content_type="multipart/form-data").get_json()
    assert batch["status"] == "previewed", batch
    job = client.post(f"/api/imports/{batch['id']}/confirm").get_json()
    run_pending()
    created = entries(sess, entity_kind="member", action="create")
    orgs_created = entries(sess, entity_kind="organisation", action="create")
    assert created and orgs_created
    for e in created + orgs_created:
        assert (e.user_id, e.job_id, e.source) == (admin.id, job["id"], "import")
        assert "members.xlsx" in e.source_ref
    assert audit.verify(sess).ok
