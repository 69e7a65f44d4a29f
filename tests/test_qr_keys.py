"""QR signing keys: one payload codec with key ids, rotation, legacy sheets, session secret apart."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io

import cv2
import pytest

from tests.support.services import add_members_with_sheets

from forms import qrpayload
from forms.qrpayload import InvalidPayloadError, Keyring, SigningKey
from service import db, qrkeys
from service.jobs.inprocess import run_pending
from service.documents.contexts import evaluation_data
from service.models import Evaluation, QrSigningKey

YEAR = 2026
KEY_A = SigningKey("ABC", b"a" * 32)
KEY_B = SigningKey("XYZ", b"b" * 32)
LEGACY = qrpayload.legacy_key(b"l" * 32)

# marks that leave nothing in doubt (a circled box or a correction always goes to review)
CLEAN_MARKS = {"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0}


# --- the codec ---------------------------------------------------------------------------

def test_payload_carries_the_key_id_and_verifies_with_the_key_it_names():
    ring = Keyring([LEGACY, KEY_A, KEY_B], current="XYZ")
    text = qrpayload.sign("evaluation_sheet", 1, "2026-000123-1", "4521", YEAR, ring)
    assert text.startswith("NC2:XYZ:ES:1:2026-000123-1:4521:2026:")
    assert qrpayload.verify(text, ring).as_dict() == {
        "kind": "evaluation_sheet", "version": 1, "sheet_serial": "2026-000123-1", "member_id": "4521",
        "year": YEAR, "kid": "XYZ"}
    assert qrpayload.parse(text).kid == "XYZ"
    # still the small QR (version 5 at level H) for the service's serials
    from docgen import marks
    assert len(marks.qr_matrix(text)) == 37


def test_legacy_payload_without_key_id_is_parsed_and_verified_with_the_legacy_key():
    old = qrpayload.sign("evaluation_sheet", 1, "2025-000123", "4521", 2025, b"l" * 32)  # bare key = legacy
    assert old.startswith("NCT1:ES:1:2025-000123:4521:2025:")
    ring = Keyring([LEGACY, KEY_A], current="ABC")
    p = qrpayload.verify(old, ring)
    assert (p.kid, p.member_id, p.year) == (qrpayload.LEGACY_KID, "4521", 2025)
    with pytest.raises(InvalidPayloadError) as err:  # a ring without the legacy key does not know it
        qrpayload.verify(old, Keyring([KEY_A], current="ABC"))
    assert err.value.code == "unknown_key"


def test_every_changed_character_and_a_forged_or_unknown_key_id_is_refused():
    ring = Keyring([LEGACY, KEY_A, KEY_B], current="ABC")
    text = qrpayload.sign("evaluation_sheet", 1, "2026-000123-1", "4521", YEAR, ring)
    for i, c in enumerate(text):
        with pytest.raises(InvalidPayloadError):
            qrpayload.verify(text[:i] + ("7" if c != "7" else "8") + text[i + 1:], ring)
    forged = text.replace(":ABC:", ":XYZ:", 1)  # another real key's id: the MAC covers the id
    with pytest.raises(InvalidPayloadError) as err:
        qrpayload.verify(forged, ring)
    assert err.value.code == "bad_signature" and "Chữ ký của mã QR không khớp" in err.value.message_vi
    stranger = qrpayload.sign("evaluation_sheet", 1, "2026-000123-1", "4521", YEAR, SigningKey("QQQ", b"q" * 32))
    with pytest.raises(InvalidPayloadError) as err:
        qrpayload.verify(stranger, ring)
    assert err.value.code == "unknown_key" and "mã khóa QQQ" in err.value.message_vi
    with pytest.raises(InvalidPayloadError) as err:  # the legacy key never signs a payload with a key id
        qrpayload.verify(text.replace(":ABC:", ":legacy:", 1), ring)
    assert err.value.code == "malformed"
    assert qrpayload.parse("garbage") is None and qrpayload.parse(b"\xff") is None


def test_secrets_never_appear_in_representations():
    ring = Keyring([KEY_A, KEY_B], current="ABC")
    assert "aaaa" not in repr(KEY_A) and "bbbb" not in repr(ring)
    with pytest.raises(ValueError):
        SigningKey("ABC", b"short")
    with pytest.raises(ValueError):
        qrpayload.sign("evaluation_sheet", 1, "a:b", "1", YEAR, KEY_A)


# --- the installation's keys -----------------------------------------------------------------

def _old_sheet_key(app) -> bytes:
    """How sheets were signed before key ids: derived from the session secret."""
    return hmac.new(app.config["SECRET_KEY"].encode(), b"noicutru/sheet-qr/v1", hashlib.sha256).digest()


def test_keys_live_in_the_database_apart_from_the_session_secret(app, sess):
    first = qrkeys.signing_key()
    assert first.kid != qrpayload.LEGACY_KID and first.secret != _old_sheet_key(app)
    ring = qrkeys.keyring()
    assert ring.get(qrpayload.LEGACY_KID).secret == _old_sheet_key(app)
    assert qrkeys.signing_key() == first  # stable: every machine reads the same table
    runner = app.test_cli_runner()
    out = runner.invoke(args=["rotate-keys"])
    assert out.exit_code == 0, out.output
    new = qrkeys.signing_key()
    assert new.kid != first.kid and new.kid in out.output
    assert new.secret.hex() not in out.output and first.secret.hex() not in out.output
    assert {qrpayload.LEGACY_KID, first.kid, new.kid} <= set(qrkeys.keyring().keys)
    assert sess.query(QrSigningKey).count() == 3


def test_rotating_the_session_secret_ends_sessions_but_not_sheets(app, sess, tmp_path, monkeypatch, make_user, login):
    monkeypatch.delenv("NOICUTRU_SECRET_KEY", raising=False)
    old_sheet = qrpayload.sign("evaluation_sheet", 1, "2025-000001-1", "7", 2025, _old_sheet_key(app))
    new_sheet = qrpayload.sign("evaluation_sheet", 1, "2026-000001-1", "7", YEAR, qrkeys.keyring())
    client = login(make_user("quantri"))
    assert client.get("/api/members").status_code == 200
    secret_file = tmp_path / "instance" / "secret_key"
    before = secret_file.read_text()
    out = app.test_cli_runner().invoke(args=["rotate-keys", "--session-secret"])
    assert out.exit_code == 0, out.output
    assert secret_file.read_text() != before and secret_file.read_text() not in out.output
    # a process started after the rotation (what every machine does on restart)
    from service import create_app
    restarted = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"],
                            "STORAGE_DIR": app.config["STORAGE_DIR"], "INSTANCE_DIR": str(tmp_path / "instance")})
    assert restarted.config["SECRET_KEY"] == secret_file.read_text().strip() != app.config["SECRET_KEY"]
    with restarted.app_context():
        ring = qrkeys.keyring()
        assert qrpayload.verify(old_sheet, ring).member_id == "7"
        assert qrpayload.verify(new_sheet, ring).year == YEAR
        # the old session cookie is refused by the new secret
        stale = restarted.test_client()
        stale.set_cookie("session", client.get_cookie("session").value)
        assert stale.get("/api/members").status_code == 401
        db.engine().dispose()


def test_session_secret_from_the_environment_is_not_rotated_here(app, monkeypatch):
    monkeypatch.setenv("NOICUTRU_SECRET_KEY", "x" * 40)
    kids = set(qrkeys.keyring().keys)
    out = app.test_cli_runner().invoke(args=["rotate-keys", "--session-secret"])
    assert out.exit_code != 0 and "NOICUTRU_SECRET_KEY" in out.output
    assert set(qrkeys.keyring().keys) == kids  # nothing changed


# --- scanned sheets across a rotation ----------------------------------------------------------

@pytest.fixture
def members(sess, orgs):
    return add_members_with_sheets(sess, orgs, ["Đỗ Văn Khải", "Phạm Thị Nguyệt", "Bùi Quang Vinh"], card_prefix="77",
                                   born=dt.date(1975, 5, 6), admitted=dt.date(2001, 2, 3), house="Số 9", year=YEAR)


def _jpeg(img) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_sheets_printed_before_a_rotation_are_still_applied_and_unknown_keys_refused(
        app, sess, orgs, members, make_user, login):
    from tests.support import synthetic_sheets as synthetic
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    evs = [sess.query(Evaluation).filter_by(member_id=m.id).one() for m in members]
    ev0 = evs[0]
    # printed before key ids, on version 1 of the sheet: no key id, signed with the key derived from the session secret
    from forms.definition import load
    from service.documents.templates_store import TEMPLATES_DIR
    v1_template = TEMPLATES_DIR / "evaluation_sheet.v1.docx"
    ev0.template_version, ev0.definition_hash = 1, load(TEMPLATES_DIR / "evaluation_sheet.v1.form.json").hash
    sess.commit()
    legacy_text = qrpayload.sign("evaluation_sheet", 1, ev0.sheet_serial, members[0].id, YEAR, _old_sheet_key(app))
    before_kid = qrkeys.signing_key().kid
    assert app.test_cli_runner().invoke(args=["rotate-keys"]).exit_code == 0
    after = qrkeys.signing_key()
    assert after.kid != before_kid
    sources = synthetic.render_sources([evaluation_data(ev) for ev in evs], mark_key=after)
    assert qrpayload.parse(sources[1].qr_payload).kid == after.kid  # a new sheet has the new key id
    stranger = qrpayload.sign("evaluation_sheet", 1, evs[2].sheet_serial, members[2].id, YEAR,
                              SigningKey("QQQ", b"q" * 32))
    old_source = synthetic.render_sources([evaluation_data(ev0)], mark_key=after, template_path=v1_template)[0]
    old_img, old_truth = synthetic.make_page(old_source, seed=3, level="light",
                                               fill_kw={"qr_payload": legacy_text, **CLEAN_MARKS})
    new_img, new_truth = synthetic.make_page(sources[1], seed=4, level="light", fill_kw=CLEAN_MARKS)
    bad_img, _ = synthetic.make_page(sources[2], seed=5, level="light",
                                         fill_kw={"qr_payload": stranger, **CLEAN_MARKS})
    files = [("cu.jpg", _jpeg(old_img)), ("moi.jpg", _jpeg(new_img)), ("la.jpg", _jpeg(bad_img))]
    resp = staff.post("/api/scans", data={"files": [(io.BytesIO(b), n) for n, b in files], "auto_apply": "1"},
                      content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    run_pending()
    batch = staff.get(f"/api/scans/{resp.get_json()['id']}").get_json()
    by_member = {p.get("member_id"): p for p in batch["pages"]}
    assert by_member[members[0].id]["status"] == "applied", by_member[members[0].id]
    assert by_member[members[1].id]["status"] == "applied", by_member[members[1].id]
    refused = [p for p in batch["pages"] if p["qr_valid"] is False]
    assert len(refused) == 1 and refused[0]["status"] == "review"
    assert any("mã khóa QQQ" in (pr.get("message_vi") or "") for pr in refused[0]["problems"]), refused[0]["problems"]
    for ev, truth in ((evs[0], old_truth), (evs[1], new_truth)):
        sess.refresh(ev)
        assert ev.status == "returned" and ev.answers == truth["answers"]
    sess.refresh(evs[2])
    assert evs[2].status == "issued"
    r = staff.post(f"/api/scan-pages/{refused[0]['id']}/apply", json={"member_id": members[2].id})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "forged_sheet"


def test_a_revoked_key_no_longer_verifies_and_does_not_come_back(app, sess):
    ring = qrkeys.keyring()
    old_sheet = qrpayload.sign("evaluation_sheet", 1, "2025-000002-1", "8", 2025, _old_sheet_key(app))
    new_sheet = qrpayload.sign("evaluation_sheet", 1, "2026-000002-1", "8", YEAR, ring)
    for kid in (qrpayload.LEGACY_KID, ring.current_kid):
        out = app.test_cli_runner().invoke(args=["revoke-key", kid])
        assert out.exit_code == 0 and f"Đã thu hồi khóa {kid}" in out.output, out.output
    assert app.test_cli_runner().invoke(args=["revoke-key", "ZZZ"]).exit_code != 0
    after = qrkeys.keyring()  # a new current key signs; the revoked ones stay away
    assert set(after.keys) == {after.current_kid} and after.current_kid != ring.current_kid
    assert sess.query(QrSigningKey).count() == 3
    for text in (old_sheet, new_sheet):
        with pytest.raises(InvalidPayloadError) as err:
            qrpayload.verify(text, after)
        assert err.value.code == "unknown_key"
