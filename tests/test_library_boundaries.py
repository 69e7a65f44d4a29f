"""The engines stay plain libraries: ``forms``, ``docgen`` and ``ocr`` import no web, database or job
framework and not the service; ``ocr`` and ``forms`` do not import ``docgen``; none has an import cycle.

Every import statement counts, also the ones inside functions (grimp reads the source).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.support.import_cycles import find_cycles

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("forms", "docgen", "ocr")
FRAMEWORKS = {"flask", "flask_login", "flask_limiter", "flask_wtf", "werkzeug", "sqlalchemy", "alembic",
              "celery", "kombu", "redis", "service"}
FORBIDDEN = {
    "forms": FRAMEWORKS | {"docgen", "ocr"},
    "docgen": FRAMEWORKS | {"ocr"},
    "ocr": FRAMEWORKS | {"docgen"},
}
# Allowed exceptions, each with its reason (none today).
ALLOWED: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*LIBRARIES, include_external_packages=True, cache_dir=None)


def _top(name: str) -> str:
    return name.split(".")[0]


def test_libraries_import_no_framework_nor_service(graph):
    found = []
    for lib in LIBRARIES:
        for module in sorted(graph.find_children(lib) | {lib}):
            for imported in graph.find_modules_directly_imported_by(module):
                top = _top(imported)
                if top in FORBIDDEN[lib] and (module, top) not in ALLOWED:
                    found.append(f"{module} -> {imported}")
    assert not found, "library boundary crossed:\n" + "\n".join(found)


def test_no_import_cycle_in_the_libraries(graph):
    modules = {m for lib in LIBRARIES for m in graph.find_children(lib) | {lib}}
    cycles = [" -> ".join(c + [c[0]]) for c in find_cycles(graph, modules)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_ocr_reader_modules_have_their_own_roles(graph):
    """Sheet reading, foreign-form reading and member identification are apart (no back edges)."""
    assert "ocr.reader" not in graph.find_modules_directly_imported_by("ocr.fallback")
    assert not graph.find_modules_directly_imported_by("ocr.identify") & {
        "ocr.reader", "ocr.foreign", "ocr.fallback", "ocr.sheet"}
    assert not graph.find_modules_directly_imported_by("ocr.foreign") & {"ocr.reader", "ocr.fallback", "ocr.sheet"}


@pytest.mark.parametrize("module,absent", [
    ("forms.definition", sorted(FORBIDDEN["forms"])),
    ("docgen", sorted(FORBIDDEN["docgen"])),
    ("forms.qrpayload", sorted(FORBIDDEN["forms"])),
    ("ocr.reader", sorted(FORBIDDEN["ocr"])),
])
def test_importing_a_library_loads_no_framework(module, absent):
    code = (f"import sys, {module}\n"
            f"bad = sorted(m for m in {absent!r} if m in sys.modules)\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing {module} loaded {out.stdout.strip()}"
