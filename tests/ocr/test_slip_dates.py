"""The date written in the receipt slip's comb boxes (letter version 3), read from a real rendered,
written-on and scanned letter: a clear date is read, a blank one is never made up, a box that is
not one readable digit leaves the date unsure (the service then asks a person)."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from docgen.pdf import find_soffice
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from forms.definition import DefinitionError, FormDefinition, load


@pytest.fixture(scope="module")
def slip():
    if find_soffice() is None and os.environ.get("CI") != "true":
        pytest.skip(reason="LibreOffice (soffice) is not installed: cannot render the letter (CI=true: an error)")
    from tests.support import slip_dates
    return slip_dates.render_slip_source(mark_key=KEY)


def _read(slip, layouts, date, **kw):
    from ocr import read_page
    from tests.support import slip_dates
    page = slip_dates.scanned_slip(slip, date, **kw)
    return read_page(page, layouts=layouts, hmac_key=KEY, slip_layouts=[slip.layout.to_dict()])


def test_the_slip_layout_comes_from_the_definition_and_the_rendered_letter(slip):
    lay = slip.layout
    assert lay.version == 3 and len(lay.boxes) == 6 and lay.century == "20"
    side = 5.5 * 72 / 25.4
    assert all(abs(b[2] - side) < 0.5 for b in lay.boxes)
    # day, month, year pairs left to right on one line, below the slip's QR
    assert [b[0] for b in lay.boxes] == sorted(b[0] for b in lay.boxes)
    assert len({round(b[1]) for b in lay.boxes}) == 1 and lay.boxes[0][1] > lay.qr[1]


def test_a_clearly_written_date_is_read_with_confidence(slip, layouts):
    r = _read(slip, layouts, dt.date(2026, 3, 7))
    assert r.kind == "introduction_receipt" and r.qr_valid
    f = r.field("received_on")
    assert f.value == "2026-03-07" and f.confidence >= 0.8, (r.field("received_on_digits").value, f.confidence)
    assert not {"date_unsure", "date_blank", "date_not_found"} & set(r.problem_codes)
    assert r.crops["received_on"][:4] == b"\x89PNG"


def test_a_blank_date_is_never_made_up(slip, layouts):
    r = _read(slip, layouts, None, seed=5)
    assert r.field("received_on").value is None
    assert "date_blank" in r.problem_codes


def test_a_box_with_something_else_than_one_digit_leaves_the_date_unsure(slip, layouts):
    # the month written as "l3"-like scrawl: a letter in a box meant for a digit
    r = _read(slip, layouts, None, seed=6, digits=["0", "7", "1", "X", "2", "6"])
    f = r.field("received_on")
    assert "date_unsure" in r.problem_codes or "date_blank" in r.problem_codes, r.problem_codes
    assert f.value is None or f.confidence < 0.8


def test_date_boxes_are_checked_in_the_definition():
    from pathlib import Path
    d = load(Path(__file__).resolve().parents[2] / "templates" / "introduction_letter.v3.form.json")
    assert d.date_boxes.field == "received_on" and d.date_boxes.box_mm == 5.5
    bad = d.to_dict()
    bad["date_boxes"] = {"field": "received on", "label": "", "box_mm": 30, "century": "2"}
    with pytest.raises(DefinitionError) as err:
        FormDefinition.from_dict(bad)
    for what in ("'field'", "'label'", "'box_mm'", "'century'"):
        assert what in str(err.value), what
