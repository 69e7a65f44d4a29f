"""The OpenAPI document is built from the same declarations that validate the requests."""
from __future__ import annotations

from service.api_models.documents import PreviewQuery
from service.api_models.members import MemberInput


def test_every_api_route_declares_its_schema(app):
    undeclared = sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
                        and getattr(app.view_functions[r.endpoint], "api_operation", None) is None)
    assert undeclared == [], "declare these routes with service.api_schema.operation: " + ", ".join(undeclared)


def test_document_publishes_the_validating_models(app):
    doc = app.test_client().get("/api/openapi.json").get_json()
    preview = doc["paths"]["/api/documents/preview"]["get"]
    params = {p["name"]: p for p in preview["parameters"]}
    assert set(params) == set(PreviewQuery.model_fields)
    assert params["member_id"]["required"] and params["year"]["schema"]["maximum"] == 2100
    body = doc["paths"]["/api/members"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    member_input = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(member_input["properties"]) == set(MemberInput.model_fields)
    assert member_input["additionalProperties"] is False and set(member_input["required"]) == {"full_name", "card_number"}
    assert member_input["properties"]["full_name"]["maxLength"] == 200
    member_path = doc["paths"]["/api/members/{member_id}"]["get"]["parameters"][0]
    assert member_path["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_validation_error_names_the_field_in_vietnamese(app, make_user, login):
    client = login(make_user("quantri"))
    resp = client.get("/api/members?page=0&status=dead")
    err = resp.get_json()["error"]
    assert resp.status_code == 400 and err["code"] == "invalid_request"
    assert "trường 'page'" in err["message"] and "trường 'status'" in err["message"]
    assert {d["field"] for d in err["details"]} == {"page", "status"}
    assert all(d["in"] == "query" for d in err["details"])
