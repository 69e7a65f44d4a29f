"""Fixtures of the OCR tests: a few sheets rendered ONCE through docgen + LibreOffice.

Real tesseract, zxing and LibreOffice; no mocks.  Without ``soffice`` the
tests that need rendered sheets are skipped, unless CI=true (then they fail).
"""
from __future__ import annotations

import datetime as dt
import os

import pytest

from docgen import load_definition, samples
from docgen.pdf import find_soffice

KEY = samples.MARK_KEY_FOR_TESTS
IN_CI = os.environ.get("CI") == "true"


def _need_soffice():
    if find_soffice() is None and not IN_CI:
        pytest.skip(reason="LibreOffice (soffice) is not installed: cannot render sheets (set CI=true to make this an error)")


@pytest.fixture(scope="session")
def definition():
    from docgen import find_template
    return load_definition(find_template("evaluation_sheet").definition_path)


@pytest.fixture(scope="session")
def sources():
    _need_soffice()
    from tests.support import synthetic_sheets as syn
    recs = syn.sample_records(3, variants=("standard", "standard", "exempt"))
    return syn.render_sources(recs, mark_key=KEY)


@pytest.fixture(scope="session")
def layouts(sources):
    from tests.support import synthetic_sheets as syn
    return syn.layouts_of(sources)


@pytest.fixture(scope="session")
def absences_sheet():
    """A version 2 standard sheet that prints two recorded absences ahead of item 7's writing lines."""
    _need_soffice()
    from tests.support import synthetic_sheets as syn
    return syn.render_sources(syn.sample_records(1, start=4, absences=(2,)), mark_key=KEY)[0]


@pytest.fixture(scope="session")
def standard(sources):
    return sources[0]


@pytest.fixture(scope="session")
def exempt(sources):
    return next(s for s in sources if s.layout.variant == "exempt")


@pytest.fixture(scope="session")
def members():
    names = ["Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng", "Phạm Ngọc Ước", "Hoàng Thị Yến",
             "Nguyễn Văn Anh", "Trần Thị Hương", "Lê Đức Thành"]
    return [{"id": 100 + i, "full_name": n, "date_of_birth": dt.date(1970 + i, 1 + i, 2 + i),
             "workplace_org_name": "Sở Tài nguyên và Môi trường",
             "residence_cell_name": f"Chi bộ Tổ dân phố số {i + 1}"} for i, n in enumerate(names)]
