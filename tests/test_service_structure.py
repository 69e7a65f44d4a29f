"""The service stays a house of feature packages: no import cycle inside ``service/``, and no module
with more than 15 routes.

Every import statement counts, also the ones inside functions (grimp reads the source).
"""
from __future__ import annotations

from collections import Counter

import grimp

from service import create_app
from tests.support.import_cycles import find_cycles

MAX_ROUTES_PER_MODULE = 15


def _cycles(graph, modules: set[str]) -> list[list[str]]:
    return find_cycles(graph, modules)


def test_no_import_cycle_in_the_service():
    graph = grimp.build_graph("service", cache_dir=None)
    modules = graph.find_children("service") | {"service"}
    modules = {m for p in list(modules) for m in graph.find_descendants(p) | {p}}
    cycles = _cycles(graph, modules)
    assert not cycles, "import cycles in service/:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles)


def test_no_module_holds_more_than_15_routes():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    per_module = Counter(app.view_functions[e].__module__ for e in endpoints)
    assert per_module, "no routes found"
    crowded = {m: n for m, n in per_module.items() if n > MAX_ROUTES_PER_MODULE}
    assert not crowded, f"modules with more than {MAX_ROUTES_PER_MODULE} routes: {crowded}"


def test_each_feature_api_is_under_api_and_the_root_api_keeps_only_its_own_routes():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    root = sorted(r.rule for r in app.url_map.iter_rules() if app.view_functions[r.endpoint].__module__ == "service.api")
    assert root == ["/api/me", "/api/openapi.json", "/api/tokens", "/api/tokens", "/api/tokens/<int:token_id>"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            assert rule.rule.startswith("/api/"), rule
