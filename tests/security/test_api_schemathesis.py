"""Schemathesis against the published /api/openapi.json of a real app with an administrator's token.

Every operation gets a few positive and negative examples (fixed seed): no answer is a 500, every
status code, content type and body matches the document, and data outside the document is refused.
"""
from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from tests.security.api_seed import seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
# Rendering PDF/PNG goes through LibreOffice: fewer examples there keeps the run short on busy machines.
SLOW = ("/document", "/preview", "/scans", "/templates", "/imports")
# More examples for a deeper run by hand, e.g. NOICUTRU_FUZZ_EXAMPLES=200.
EXAMPLES = int(os.environ.get("NOICUTRU_FUZZ_EXAMPLES", "12"))


def _run(app, operation, mode: GenerationMode, headers: dict, examples: int, failures: list) -> None:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as exc:  # collected so one run reports every operation at once
            failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
            raise
    try:
        check()
    except Exception:
        pass


def test_published_document_holds_for_generated_requests(app, sess, make_user):
    data = seed(sess, make_user)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {data['token']}"}
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        slow = any(part in operation.path for part in SLOW)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(app, operation, mode, headers, max(3, EXAMPLES // 4) if slow else EXAMPLES, failures)
    published = app.test_client().get("/api/openapi.json").get_json()["paths"]
    # Every published operation was exercised (schemathesis leaves out the document itself).
    assert len(labels) == sum(len(methods) for methods in published.values()) - 1 >= 34
    assert not failures, "\n\n".join(failures)
