"""Every route of the app × every kind of caller: anonymous, administrator, staff of organisation A
(who own the objects), staff of organisation B, the secretary of the residence cell of the objects'
member, and the secretary of another cell. The expected outcome of each pair is declared in ROUTES
below; a route of the URL map without an entry fails the test. A write refused (403/404) changes
nothing in the database.

Outcomes: "ok" = allowed (any answer but 401/403/404/500: a 400 for an incomplete body is still
allowed); "deny" = 403 or 404; "login" = 401 (API) or a redirect to the sign-in page; "any" = no
500 and no 401 (e.g. an allowed caller may get 404 for a crop that does not exist); "open" = anything
but a 500 (signing in and out).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from sqlalchemy import select

from service import db, storage
from service.auth import new_api_token
from service.db import Base
from service.documents.letters import issue_introduction
from service.documents.sheets import ensure_sheet
from service.documents.templates_store import sync_builtin
from service.models import (AbsenceRequest, Campaign, CampaignSheet, DocumentTemplate, ImportBatch, Job, Meeting, Member,
                            ScanBatch, ScanFile, ScanPage)

CALLERS = ("anon", "admin", "staff_a", "staff_b", "cell_in", "cell_out")
SIGNED = CALLERS[1:]


def allow(*ok, public=False, any_=()):
    """Expected outcome per caller: ``ok`` callers allowed, ``any_`` callers anything but 401/500,
    the other signed-in callers refused, anonymous sent to sign in (unless ``public``)."""
    out = {c: ("ok" if c in ok else "any" if c in any_ else "deny") for c in SIGNED}
    out["anon"] = "ok" if public else "login"
    return out


ALL = SIGNED
ADMIN = ("admin",)
A = ("admin", "staff_a")  # the member's workplace committee
A_CELL = ("admin", "staff_a", "cell_in")  # ... and the member's residence cell (read, or a scanned return)
STAFF = ("admin", "staff_a", "staff_b")  # any workplace committee (their own scope)
OWN = ("admin", "staff_a")  # rows that only their creator (staff A) and administrators open
CELL = ("admin", "cell_in")  # the cell's meetings

# (method, rule) -> expected outcome per caller; optional body (JSON for /api/, form otherwise).
ROUTES: dict[tuple[str, str], dict] = {
    ("GET", "/"): allow(*ALL),
    ("GET", "/login"): allow(*ALL, public=True),
    ("POST", "/login"): {c: "open" for c in CALLERS},  # wrong credentials: 401, for anyone
    ("POST", "/logout"): {c: "open" for c in CALLERS},  # back to the sign-in page, for anyone
    ("GET", "/static/<path:filename>"): allow(*ALL, public=True),
    # the digital path: code entry is public (rate-limited); the sheet opens for those who may write its
    # return or hold its code (anonymous callers without a code are sent to the code entry page)
    ("GET", "/tra-loi/"): allow(*ALL, public=True),
    ("POST", "/tra-loi/"): {c: "open" for c in CALLERS},  # a wrong code: 400, for anyone
    ("GET", "/tra-loi/qr"): {c: "open" for c in CALLERS},  # a sheet's QR as a link: 404 without a valid one
    ("GET", "/tra-loi/<serial>"): {**allow(*A_CELL), "anon": "ok"},
    ("POST", "/tra-loi/<serial>"): {**allow(*A_CELL), "anon": "ok"},  # anonymous: sent to the code entry, nothing written
    ("GET", "/tra-loi/<serial>/ma"): allow(*A_CELL),
    ("GET", "/tra-loi/ma-chi-bo"): allow(*ALL),  # each caller sees the cells of their own members
    ("POST", "/tra-loi/ma-chi-bo"): allow(*ALL),  # no cell chosen: 400 for anyone; codes only within scope
    ("POST", "/tra-loi/<serial>/ma"): allow(*A_CELL),
    # API: reading
    ("GET", "/api/openapi.json"): allow(*ALL, public=True),
    ("GET", "/api/me"): allow(*ALL),
    ("GET", "/api/tokens"): allow(*ALL),  # one's own tokens
    # item 7 transcription: the queue lists what the caller may see; typing a remark is the workplace's write
    ("GET", "/api/transcriptions"): allow(*ALL),
    ("GET", "/scans/transcriptions/"): allow(*ALL),
    ("GET", "/api/transcriptions/<int:ev_id>/crop"): allow(any_=A_CELL),  # this sheet has no crop: 404 for readers
    ("GET", "/scans/transcriptions/<int:ev_id>/crop.png"): allow(any_=A_CELL),
    ("POST", "/api/transcriptions/<int:ev_id>"): allow(*A),  # no crop to transcribe: 409 for the allowed
    ("POST", "/scans/transcriptions/<int:ev_id>"): allow(*A),
    ("POST", "/api/transcriptions/<int:ev_id>/unreadable"): allow(*A),  # no crop: 409 for the allowed
    ("POST", "/scans/transcriptions/<int:ev_id>/unreadable"): allow(*A),
    # the year-end campaign: its committee's staff; a cell's contact: also that cell's secretary
    ("GET", "/campaigns/"): allow(*ALL),
    ("POST", "/campaigns/"): allow(*A),  # the second caller finds the campaign made: 409, still allowed
    ("GET", "/campaigns/<int:campaign_id>"): allow(*A),
    ("GET", "/campaigns/<int:campaign_id>/missing.xlsx"): allow(*A),
    ("POST", "/campaigns/<int:campaign_id>/sent"): allow(*A),
    ("GET", "/campaigns/<int:campaign_id>/members/<int:member_id>/return"): allow(*A),
    ("POST", "/campaigns/<int:campaign_id>/members/<int:member_id>/return"): allow(*A),
    ("POST", "/campaigns/<int:campaign_id>/cells/<int:cell_id>/reminder"): allow(*A),
    ("POST", "/campaigns/cells/<int:cell_id>/contact"): allow(*A_CELL),
    ("GET", "/api/campaigns"): allow(*ALL),
    ("GET", "/api/campaigns/<int:campaign_id>"): allow(*A),
    ("POST", "/api/campaigns"): allow(*A),
    ("POST", "/api/campaigns/<int:campaign_id>/sent"): allow(*A),  # the world's sheet is sent already: 409, allowed
    ("POST", "/api/campaigns/<int:campaign_id>/members/<int:member_id>/return"): allow(*A),
    ("DELETE", "/api/tokens/<int:token_id>"): allow(*OWN),  # staff A's token: staff A and administrators
    ("GET", "/account/"): allow(*ALL),
    ("GET", "/help/"): allow(*ALL),  # the guide of one's role
    ("POST", "/account/"): allow(*ALL),  # a token (or a password) of one's own
    ("POST", "/account/tokens/<int:token_id>/revoke"): allow(*OWN),
    ("POST", "/api/imports/<int:batch_id>/mapping"): allow(*OWN),
    ("POST", "/api/imports/<int:batch_id>/places"): allow(*OWN),
    ("POST", "/api/imports/<int:batch_id>/undo"): allow(*OWN),
    ("GET", "/import/<int:batch_id>/mapping"): allow(*OWN),
    ("POST", "/import/<int:batch_id>/mapping"): allow(*OWN),
    ("POST", "/import/<int:batch_id>/places"): allow(*OWN),
    ("POST", "/import/<int:batch_id>/undo"): allow(*OWN),
    ("GET", "/api/members"): allow(*ALL),
    ("GET", "/api/members/export.xlsx"): allow(*ALL),
    ("GET", "/api/members/<int:member_id>"): allow(*A_CELL),
    ("GET", "/api/members/<int:member_id>/history"): allow(*A_CELL),
    ("GET", "/api/organisations"): allow(*ALL),
    ("GET", "/api/organisations/<int:org_id>"): allow(*A),
    ("GET", "/api/documents/preview"): allow(*A_CELL),
    ("GET", "/api/introductions/<int:intro_id>/document"): allow(*A_CELL),
    ("GET", "/api/evaluations/<int:ev_id>/document"): allow(*A_CELL),
    ("GET", "/api/imports/<int:batch_id>"): allow(*OWN),
    ("GET", "/api/jobs"): allow(*ALL),
    ("GET", "/api/jobs/<int:job_id>"): allow(*OWN),
    ("GET", "/api/scan-pages"): allow(*ALL),
    ("GET", "/api/scan-pages/<int:page_id>"): allow(*A_CELL),
    ("GET", "/api/scans/<int:batch_id>"): allow(*OWN),
    ("GET", "/api/templates"): allow(*ALL),
    # API: writing
    ("POST", "/api/tokens"): allow(*ALL),
    ("POST", "/api/members"): allow(*A),
    ("PATCH", "/api/members/<int:member_id>"): allow(*A),
    ("POST", "/api/members/<int:member_id>/introductions"): allow(*A),
    ("GET", "/api/members/<int:member_id>/introductions/check"): allow(*A),
    ("POST", "/api/members/<int:member_id>/evaluations"): allow(*A),
    ("POST", "/api/evaluations/<int:ev_id>/void"): allow(*A),
    ("POST", "/api/organisations"): allow(*ADMIN),
    ("PATCH", "/api/organisations/<int:org_id>"): allow(*ADMIN),
    ("POST", "/api/imports"): allow(*STAFF),
    ("POST", "/api/imports/<int:batch_id>/confirm"): allow(*OWN),
    ("POST", "/api/jobs/<int:job_id>/cancel"): allow(*OWN),
    ("POST", "/api/documents/bulk"): allow(*STAFF),
    # the per-cell packets of a workplace committee (org_id: organisation A's committee)
    ("GET", "/api/documents/packets/run"): allow(*A),
    ("POST", "/api/documents/packets"): allow(*A),
    ("POST", "/api/templates"): allow(*ADMIN),
    ("POST", "/api/scans"): allow(*ALL),
    ("POST", "/api/scan-pages/<int:page_id>/apply"): allow(*A_CELL),
    ("POST", "/api/scan-pages/<int:page_id>/reject"): allow(*A_CELL),
    ("POST", "/api/scan-pages/<int:page_id>/undo"): allow(*A_CELL),
    # pages: members and organisations
    ("GET", "/members/"): allow(*ALL),
    ("GET", "/members/export.xlsx"): allow(*ALL),
    ("GET", "/members/<int:member_id>"): allow(*A_CELL),
    ("GET", "/members/new"): allow(*STAFF),
    ("POST", "/members/new"): allow(*A, any_=("staff_b",)),  # B may add members, not into A (403)
    ("GET", "/members/<int:member_id>/edit"): allow(*A),
    ("POST", "/members/<int:member_id>/edit"): allow(*A),
    ("GET", "/organisations/"): allow(*ALL),
    ("GET", "/organisations/<int:org_id>"): allow(*A),
    ("POST", "/organisations/new"): allow(*ADMIN),
    ("POST", "/organisations/<int:org_id>/edit"): allow(*ADMIN),
    # pages: documents
    ("GET", "/documents/"): allow(*STAFF),
    ("POST", "/documents/"): allow(*STAFF),
    ("GET", "/documents/preview"): allow(*A_CELL),
    ("GET", "/documents/packets"): allow(*STAFF),  # each committee's staff choose among their own committees
    ("POST", "/documents/packets"): allow(*A),
    ("GET", "/documents/introductions/<int:intro_id>.<fmt>"): allow(*A_CELL),
    ("POST", "/documents/introductions/<int:intro_id>/received"): allow(*A),
    ("POST", "/documents/members/<int:member_id>/introduction"): allow(*A),
    ("POST", "/documents/members/<int:member_id>/sheet"): allow(*A),
    ("GET", "/documents/sheets/<int:ev_id>.<fmt>"): allow(*A_CELL),
    ("POST", "/documents/sheets/<int:ev_id>/void"): allow(*A),
    ("GET", "/documents/templates"): allow(*ADMIN),
    ("POST", "/documents/templates"): allow(*ADMIN),
    ("POST", "/documents/templates/<int:template_id>/toggle"): allow(*ADMIN),
    # pages: import, jobs
    ("GET", "/import/"): allow(*STAFF),
    ("POST", "/import/"): allow(*STAFF),
    ("GET", "/import/<int:batch_id>"): allow(*OWN),
    ("POST", "/import/<int:batch_id>/confirm"): allow(*OWN),
    ("GET", "/jobs/"): allow(*ALL),
    ("GET", "/jobs/<int:job_id>"): allow(*OWN),
    ("POST", "/jobs/<int:job_id>/cancel"): allow(*OWN),
    ("GET", "/jobs/<int:job_id>/result"): allow(any_=OWN),  # the job has no result file: 404 for its owner
    # pages: meetings
    ("GET", "/meetings/"): allow(*ALL),
    ("POST", "/meetings/"): allow(*CELL),
    ("GET", "/meetings/<int:meeting_id>"): allow(*CELL),
    ("POST", "/meetings/<int:meeting_id>"): allow(*CELL),
    ("GET", "/meetings/<int:meeting_id>/sign-in.<fmt>"): allow(*CELL),
    ("POST", "/meetings/<int:meeting_id>/requests"): allow(*A_CELL),  # the member's committee, or their cell
    ("POST", "/meetings/requests/<int:request_id>/certify"): allow(*A),  # the member's workplace committee only
    ("GET", "/meetings/absences"): allow(*ALL),  # each sees the absences of their own members
    ("GET", "/meetings/absences.xlsx"): allow(*ALL),
    ("GET", "/api/reports/<int:org_id>"): allow(*A),
    ("POST", "/api/absence-requests/<int:request_id>/certify"): allow(*A),
    # pages: results for the rating (workplace committees)
    ("GET", "/reports/"): allow(*STAFF),
    ("GET", "/reports/<int:org_id>.xlsx"): allow(*A),
    ("GET", "/reports/<int:org_id>.docx"): allow(*A),
    ("GET", "/reports/<int:org_id>/charts"): allow(*A),
    # pages: scans
    ("GET", "/scans/"): allow(*ALL),
    ("POST", "/scans/"): allow(*ALL),
    ("GET", "/scans/review"): allow(*ALL),
    ("GET", "/scans/batches/<int:batch_id>"): allow(*OWN),
    ("GET", "/scans/pages/<int:page_id>"): allow(*A_CELL),
    ("GET", "/scans/pages/<int:page_id>/image.png"): allow(any_=A_CELL),  # no image stored: 404 when allowed
    ("GET", "/scans/pages/<int:page_id>/crops/<name>.png"): allow(any_=A_CELL),
    ("POST", "/scans/pages/<int:page_id>/apply"): allow(*A_CELL),
    ("POST", "/scans/pages/<int:page_id>/reject"): allow(*A_CELL),
    ("POST", "/scans/pages/<int:page_id>/undo"): allow(*A_CELL),
    # pages: users
    ("GET", "/users/"): allow(*ADMIN),
    ("POST", "/users/"): allow(*ADMIN),
    ("GET", "/users/<int:user_id>"): allow(*ADMIN),
    ("POST", "/users/<int:user_id>"): allow(*ADMIN),
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}


@pytest.fixture
def world(sess, orgs, make_user, login):
    """The objects, all of organisation A (tax office) and of residence cell 1, and a signed-in client per caller."""
    users = {"admin": make_user("quantri"),
             "staff_a": make_user("thue", role="workplace_staff", organisation=orgs["tax"]),
             "staff_b": make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"]),
             "cell_in": make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"]),
             "cell_out": make_user("bithu5", role="cell_secretary", organisation=orgs["other_cell"])}
    m = Member(card_number="6001", workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs["cell1"].id,
               gender="female", date_of_birth=dt.date(1975, 5, 6), admission_date=dt.date(2001, 2, 3),
               house="Số 7", commune="Phường Hồng Hà", province="Quảng Ninh", status="active")
    m.set_name("Đỗ Thị Mai")
    sess.add(m)
    sess.commit()
    staff_a = users["staff_a"]
    ev = ensure_sheet(sess, m, 2026)
    intro = issue_introduction(sess, staff_a, m, dt.date(2026, 2, 1))
    stored = storage.save(sess, b"not really a workbook", "ds.xlsx", "application/octet-stream", staff_a.id)
    job = Job(kind="import_members", params={}, created_by=staff_a.id, state="done")
    sess.add(job)
    sess.flush()
    ib = ImportBatch(file_id=stored.id, file_name="ds.xlsx", preview={
        "rows": [], "sheet": "DS", "header_row": 1, "last": 1,
        "summary": {"create": 0, "update": 0, "unchanged": 0, "rejected": 0, "organisations_created": 0}}, created_by=staff_a.id,
                     status="rejected")
    sb = ScanBatch(created_by=staff_a.id, auto_apply=False, page_count=1, job_id=job.id)
    sess.add_all([ib, sb])
    sess.flush()
    sf = ScanFile(batch_id=sb.id, stored_file_id=stored.id, name="phieu.jpg", page_count=1)
    sess.add(sf)
    sess.flush()
    page = ScanPage(batch_id=sb.id, scan_file_id=sf.id, page_no=1, source_key="k" * 64, kind="evaluation_sheet",
                    reading={"answers": {}}, member_id=m.id, year=2026, status="review", problems=[])
    meeting = Meeting(residence_cell_id=orgs["cell1"].id, held_on=dt.date(2026, 3, 1), title="Sinh hoạt")
    campaign = Campaign(workplace_org_id=orgs["tax"].id, year=2026, deadline=dt.date(2026, 12, 1),
                        created_by=staff_a.id)
    sess.add_all([page, meeting, campaign])
    sess.flush()
    sess.add(CampaignSheet(campaign_id=campaign.id, member_id=m.id, sent_on=dt.date(2026, 11, 2)))
    sess.commit()
    absence = AbsenceRequest(meeting_id=meeting.id, member_id=m.id, reason="Ốm", recorded_by=staff_a.id)
    sess.add(absence)
    sess.commit()
    sync_builtin(sess)
    template = sess.scalars(select(DocumentTemplate).order_by(DocumentTemplate.id)).first()
    _secret, token = new_api_token(sess, staff_a, "ma tran")
    sess.commit()
    ids = {"member_id": m.id, "ev_id": ev.id, "intro_id": intro.id, "job_id": job.id, "org_id": orgs["tax"].id,
           "page_id": page.id, "template_id": template.id, "user_id": staff_a.id, "meeting_id": meeting.id,
           "fmt": "docx", "name": "name", "filename": "style.css", "import_batch": ib.id, "scan_batch": sb.id,
           "token_id": token.id, "serial": ev.sheet_serial, "request_id": absence.id, "campaign_id": campaign.id,
           "cell_id": orgs["cell1"].id}
    clients = {c: login(u) for c, u in users.items()}
    clients["anon"] = None
    return {"ids": ids, "users": users, "clients": clients, "orgs": orgs, "member": m}


def path_of(rule: str, ids: dict) -> str:
    def value(match) -> str:
        name = match.group(1).split(":")[-1]
        if name == "batch_id":
            name = "scan_batch" if "scan" in rule else "import_batch"
        return str(ids[name])
    path = re.sub(r"<([^>]+)>", value, rule)
    if rule.endswith("/preview"):
        path += f"?member_id={ids['member_id']}&kind=evaluation_sheet&year=2026&format=docx"
    if rule == "/api/documents/packets/run":
        path += f"?committee_id={ids['org_id']}&year=2026"
    return path


_cards = iter(range(7000, 9000))


def body_of(method: str, rule: str, w: dict):
    """A request body that reaches the permission check (valid enough where a write is meant)."""
    orgs, m = w["orgs"], w["member"]
    if rule == "/api/members" or rule == "/members/new":
        return {"full_name": "Vũ Văn Mới", "card_number": str(next(_cards)), "workplace_org_id": orgs["tax_cell"].id}
    if rule == "/meetings/":
        return {"cell_id": orgs["cell1"].id, "held_on": "01/04/2026", "title": "Sinh hoạt tháng 4"}
    if rule == "/meetings/<int:meeting_id>":
        return {f"s_{m.id}": "present"}
    if rule == "/meetings/<int:meeting_id>/requests":
        return {"member_id": m.id, "reason": "Đi công tác"}
    if rule.endswith("/void"):
        return {"reason": "Phiếu bị rách"}
    if rule == "/campaigns/":
        return {"workplace_org_id": orgs["tax"].id, "year": "2027", "deadline": "15/12/2027"}
    if rule == "/api/campaigns":
        return {"workplace_org_id": orgs["tax"].id, "year": 2028, "deadline": "15/12/2028"}
    if rule == "/campaigns/cells/<int:cell_id>/contact":
        return {"name": "Nguyễn Văn Bí", "phone": "0912 345 678"}
    if rule == "/api/documents/bulk":
        return {"kind": "evaluation_sheet", "year": 2026, "selection": {}}
    if rule == "/documents/":
        return {"kind": "evaluation_sheet", "year": "2026"}
    if rule == "/api/documents/packets":
        return {"committee_id": orgs["tax"].id, "year": 2026, "return_deadline": "2026-12-31"}
    if rule == "/documents/packets":
        return {"committee_id": str(orgs["tax"].id), "year": "2026", "return_deadline": "31/12/2026"}
    if rule == "/api/imports/<int:batch_id>/mapping":
        return {"mapping": {"A": "full_name"}}
    if rule == "/api/imports/<int:batch_id>/places":
        return {"places": {"Đảng ủy phường Mới": "Mới"}}
    if rule == "/api/templates":  # complete enough that only the permission check can refuse it
        return {"kind": "evaluation_sheet", "file": (io.BytesIO(b"PK not a template"), "mau.docx")}
    if rule in ("/api/imports", "/import/"):
        return {"file": (io.BytesIO(b"PK not a workbook"), "ds.xlsx")}
    if rule == "/api/organisations":
        return {"name": "Chi bộ khu phố 8", "kind": "residence_cell", "parent_id": orgs["ward"].id}
    if rule.startswith("/api/") and method in ("POST", "PATCH"):
        return {}
    return {}


def fingerprint() -> str:
    """Every row of every table (to show a refused request changed nothing)."""
    h = hashlib.sha256()
    with db.engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select().order_by(*table.primary_key.columns)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def outcome(resp) -> str:
    if resp.status_code >= 500:
        return "error"
    if resp.status_code == 401 or (resp.status_code == 302 and "/login" in resp.headers.get("Location", "")):
        return "login"
    if resp.status_code in (403, 404):
        return "deny"
    return "ok"


def call(client, method: str, rule: str, path: str, body: dict):
    if rule.startswith("/api/") and not any(isinstance(v, tuple) for v in body.values()):
        return client.open(path, method=method, json=body if method != "GET" else None)
    if method == "GET":
        return client.open(path, method=method)
    return client.open(path, method=method, data=body, content_type="multipart/form-data")


def test_every_route_has_a_declared_outcome_per_caller(app):
    missing = sorted(app_routes(app) - set(ROUTES))
    assert not missing, f"routes without an entry in ROUTES (declare who may call them): {missing}"
    stale = sorted(set(ROUTES) - app_routes(app))
    assert not stale, f"entries of ROUTES for routes that no longer exist: {stale}"


def test_route_by_caller_matrix(app, world, login):
    failures = []
    for (method, rule), expected in sorted(ROUTES.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        path = path_of(rule, world["ids"])
        for caller in CALLERS:
            client = world["clients"][caller] or app.test_client()
            if rule == "/logout" and caller != "anon":
                client = login(world["users"][caller])  # a fresh session, so the others stay signed in
            body = body_of(method, rule, world)
            before = fingerprint() if method != "GET" else None
            resp = call(client, method, rule, path, body)
            got, want = outcome(resp), expected[caller]
            if rule == "/logout" and caller != "anon":  # signing out ends every session of the user: sign in again
                world["clients"][caller] = login(world["users"][caller])
            if got == "error" or (want not in ("any", "open") and got != want) or (want == "any" and got == "login"):
                failures.append(f"{method} {path} as {caller}: expected {want}, got {resp.status_code}")
            if method != "GET" and got in ("deny", "login") and rule not in ("/login", "/logout"):
                if fingerprint() != before:
                    failures.append(f"{method} {path} as {caller}: refused ({resp.status_code}) but changed data")
    assert not failures, "\n".join(failures)
