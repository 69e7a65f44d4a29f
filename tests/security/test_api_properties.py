"""Property tests of the API's parameters and bodies: any id, year, text or wrong JSON type is a 4xx, never a 500."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from service.models import Member, Organisation
from service.text import clean
from tests.security.api_seed import seed

SETTINGS = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
ids = st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63]))
texts = st.text(max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=6)


@pytest.fixture
def api(app, sess, make_user):
    data = seed(sess, make_user)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {data['token']}"
    return client, data


def _ok_or_4xx(resp) -> None:
    assert resp.status_code < 500, resp.data[:300]
    if resp.status_code >= 400:
        err = resp.get_json()["error"]
        assert err["code"] and err["message"]


def test_any_path_id_is_found_or_404(api):
    client, _ = api

    @SETTINGS
    @given(ids, st.sampled_from(["/api/members/{}", "/api/organisations/{}", "/api/scans/{}", "/api/jobs/{}",
                                 "/api/introductions/{}/document", "/api/scan-pages/{}", "/api/imports/{}"]))
    def check(number, template):
        resp = client.get(template.format(number))
        _ok_or_4xx(resp)
        if number > 2**31 - 1 or number < 0:
            assert resp.status_code == 404
    check()


def test_any_query_string_is_answered_without_500(api):
    client, data = api

    @SETTINGS
    @given(st.dictionaries(st.sampled_from(["q", "page", "per_page", "status", "ward_id", "workplace_org_id",
                                            "residence_cell_id", "year", "member_id", "kind", "format"]),
                           st.one_of(texts, ids.map(str)), max_size=4),
           st.sampled_from(["/api/members", "/api/members/export.xlsx", "/api/organisations", "/api/scan-pages"]))
    def check(args, path):
        _ok_or_4xx(client.get(path, query_string=args))
    check()


def test_preview_with_any_year_is_refused_cleanly(api):
    client, data = api
    member = data["members"][0].id

    @settings(max_examples=15, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(texts, st.integers(min_value=-10**12, max_value=10**12).map(str)).filter(
        lambda y: not (y.strip().isascii() and y.strip().isdigit() and 2000 <= int(y) <= 2100)))
    def check(year):
        resp = client.get("/api/documents/preview", query_string={"member_id": member, "year": year, "format": "docx"})
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_request"
    check()


def test_member_bodies_of_any_shape_never_store_a_wrong_type(api, sess):
    client, data = api
    member = data["members"][1]
    before = member.snapshot()

    @SETTINGS
    @given(st.sampled_from(["full_name", "card_number", "phone", "notes", "gender", "status", "workplace_org_id",
                            "date_of_birth"]), json_values.filter(lambda v: not isinstance(v, str)))
    def check(field, value):
        if field.endswith("_id") and isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1:
            return  # a well-typed id: a real answer either way
        if value is None and field not in ("full_name", "status"):
            return  # null clears an optional field
        resp = client.patch(f"/api/members/{member.id}", json={field: value})
        assert resp.status_code == 400, (field, value, resp.data[:300])
        assert resp.get_json()["error"]["code"] == "invalid_request"
    check()
    sess.expire_all()
    assert sess.get(Member, member.id).snapshot() == before


def test_organisation_and_bulk_bodies_never_500(api, sess):
    client, data = api
    org_count = sess.query(Organisation).count()

    @SETTINGS
    @given(st.sampled_from(["PATCH /api/organisations/{org}", "POST /api/documents/bulk",
                            "POST /api/evaluations/{sheet}/void", "POST /api/scan-pages/1/reject",
                            "POST /api/organisations", "POST /api/members/{member}/evaluations"]),
           st.dictionaries(st.sampled_from(["name", "kind", "parent_id", "place", "year", "selection", "outputs",
                                            "reason", "member_ids", "secretary_name"]), json_values, max_size=4))
    def check(op, body):
        method, path = op.split(" ")
        path = path.format(org=data["cell"].id, sheet=data["sheet"].id, member=data["members"][0].id)
        _ok_or_4xx(client.open(path, method=method, json=body))
    check()
    sess.expire_all()
    assert sess.query(Organisation).count() >= org_count


def test_unicode_text_round_trips_or_is_refused(api, sess):
    client, data = api
    member = data["members"][1]

    @SETTINGS
    @given(st.text(min_size=1, max_size=250))
    def check(name):
        resp = client.patch(f"/api/members/{member.id}", json={"full_name": name})
        _ok_or_4xx(resp)
        if resp.status_code == 200:
            assert resp.get_json()["full_name"] == clean(name)
    check()
