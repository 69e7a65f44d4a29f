"""User administration and the demo data."""
from service.models import Member, User


def test_admin_creates_users_with_roles_and_checks(app, sess, orgs, make_user, login):
    admin = login(make_user("admin"))
    resp = admin.post("/users/", data={"username": "canbo.thue", "full_name": "Cán bộ Thuế", "password": "mot-mat-khau-dai",
                                       "role": "workplace_staff", "organisation_id": orgs["tax"].id})
    assert resp.status_code == 302
    user = sess.query(User).filter_by(username="canbo.thue").one()
    assert user.role == "workplace_staff" and user.organisation_id == orgs["tax"].id
    # A cell secretary must belong to a residence cell; a short password is refused.
    admin.post("/users/", data={"username": "bithu", "password": "mot-mat-khau-dai", "role": "cell_secretary",
                                "organisation_id": orgs["tax"].id})
    admin.post("/users/", data={"username": "ngan", "password": "ngan", "role": "admin"})
    assert sess.query(User).filter(User.username.in_(["bithu", "ngan"])).count() == 0
    page = admin.get("/users/").get_data(as_text=True)
    assert "Cán bộ Thuế" in page
    # The new user signs in and sees only their committee's page links.
    staff = login(user, password="mot-mat-khau-dai")
    assert staff.get("/users/").status_code == 403


def test_non_admins_cannot_administer(app, orgs, make_user, login):
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    assert staff.post("/users/", data={"username": "x1234", "password": "mot-mat-khau-dai", "role": "admin"}).status_code == 403
    assert staff.get("/documents/templates").status_code == 403


def test_demo_data_loads_once_with_demo_sign_ins(app, sess, tmp_path):
    from service.cli import DEMO_PASSWORD, ensure_demo_data
    ensure_demo_data(app)
    members = sess.query(Member).count()
    assert members >= 250
    assert {u.username for u in sess.query(User)} >= {"admin", "canbo", "bithu"}
    ensure_demo_data(app)  # a second start loads nothing more
    assert sess.query(Member).count() == members
    resp = app.test_client().post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    assert resp.status_code == 302
