"""Forms we did not print, read by ocr/foreign.py: layouts of other cells whose options sit in a
table's columns under a generic scale, boxes run into the words by the OCR, pages turned.

Real tesseract, real rendering (tests/support/foreign_forms.py, independent of the reader); no mocks.
"""
from __future__ import annotations

import cv2
import pytest

import ocr
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from tests.support import foreign_forms as ff


def _read(img, layouts, members):
    return ocr.read_page(img, layouts=layouts, hmac_key=KEY, members_hint=members, want_images=False)


def _right(r, truth):
    return sum(r.answers.get(k) == v for k, v in truth["answers"].items())


@pytest.mark.parametrize("seed", [16, 18])
def test_a_tick_under_a_generic_scale_maps_by_rank(layouts, members, seed):
    """A table whose columns read "Rất tốt | Tốt | Chưa tốt": "Tốt" is the MIDDLE column here (the
    synonym table has it as the best option of several duties), so a tick under it is each duty's middle
    option.  Seed 18's header cells are read by the OCR as three lines a few pixels apart."""
    img, truth = ff.make_form(members[seed % len(members)], seed, split="fresh", layout="table_ticks",
                              level="light", turn=0)
    assert truth["wordings"]["setting_example"] == {"good_example": "Rất tốt", "example": "Tốt",
                                                     "no_example": "Chưa tốt"}
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and not r.auto_applicable
    rows = [k for k in truth["answers"] if k != "cell_proposal"]  # the duties in the table
    assert [r.answers.get(k) for k in rows] == [truth["answers"][k] for k in rows], (truth["answers"], r.answers)


@pytest.mark.parametrize("seed", [5, 6])
def test_a_box_after_each_option_on_one_line(layouts, members, seed):
    """A box printed right after each option's wording, options side by side: the OCR often makes one
    word of the wording's last word and the box ("gương[]", "giaf"); the box is still measured as the
    option's mark, not blanked as text."""
    img, truth = ff.make_form(members[seed % len(members)], seed, split="fresh", layout="boxes_right_inline",
                              level="medium", turn=0)
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and not r.auto_applicable
    assert _right(r, truth) >= len(truth["answers"]) - 1, (truth["answers"], r.answers, r.item_status)
    assert not [k for k, v in truth["answers"].items() if r.answers.get(k) not in (None, v)]


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_orientation_detection_turns_pages_upright(members, turn):
    """Tesseract's orientation detection, asked when too few duties are read the first way up, gives the
    quarter turns that make the page upright (and leaves an upright page alone)."""
    from ocr import foreign as fo
    img, _truth = ff.make_form(members[0], 3, split="heldout", level="medium", turn=turn)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    f = fo.OCR_LONG_SIDE / max(gray.shape)
    small = fo.flatten(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA))
    assert (fo.osd_turn(small) + turn) % 360 == 0


def test_print_on_yellowish_paper_is_not_taken_for_pen_ink(layouts, members):
    """A report-split page on yellowish paper, the chosen options circled in an orange pen: the pen mask
    (what is taken out before the OCR) measures colour against the paper's own, so it holds the circles
    and not the printed words (before, the print's yellow-tinted edges were erased and the duties lost)."""
    from ocr import foreign as fo
    img, truth = ff.make_form(members[4], 4, split="report", level="light")
    assert truth["layout"] == "circled" and not truth["degradation"].get("turn")
    f = fo.OCR_LONG_SIDE / max(img.shape[:2])
    small = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    assert small[..., 0].mean() + 10 < small[..., 2].mean()  # the paper is yellowish
    mask = fo.pen_mask(small)
    assert mask is not None
    print_px = gray < 100  # black print (and the darkest of the pen)
    assert (mask[print_px] > 0).mean() < 0.1
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and not r.auto_applicable
    assert _right(r, truth) >= len(truth["answers"]) - 1, (truth["answers"], r.answers, r.item_status)


@pytest.mark.parametrize("seed,layout", [(505, "glyph_list"), (504, "table_answer")])
def test_capital_labels_of_own_wording_and_yes_no_options(layouts, members, seed, layout):
    """Duties in their own wording (capitals, no colon, or wrapped in a table's left column), answered
    "Có / Không": the header's lines are not taken for duties, the label's tail or its wrapped line is
    no option, and "Có" / "Không" are the scale's ends."""
    img, truth = ff.make_form(members[seed % len(members)], seed, split="report", level="light")
    assert truth["layout"] == layout and not truth["degradation"].get("turn")
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and not r.auto_applicable
    assert _right(r, truth) >= len(truth["answers"]) - 2, (truth["answers"], r.answers, r.item_status)
