"""Phone photos of our sheets (issue 9, point 6): the page is flattened from the right four corner marks
and the light is evened out before the boxes are read, so a photo reads like a scan.

Photos come from the independent fill model (tests/support/hand_fill.py, ``level="phone"``: perspective,
the phone's shadow, vignetting, colour cast, noise, JPEG, about 200 dpi).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import ocr
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from ocr import align, photo
from tests.support import hand_fill as hf


def read(img, layouts):
    return ocr.read_page(img, layouts=layouts, hmac_key=KEY, ocr_name=False, want_images=False)


def wrong_boxes(r, truth) -> list[str]:
    """Boxes read marked where the hand left them empty or the reverse (unsure counts wrong)."""
    return [f.name for f in r.fields if f.kind == "tickbox"
            and (f.box_class in ("empty", "unsure") or truth["boxes"][f.name] == "empty")
            and not (f.box_class == "empty" and truth["boxes"][f.name] == "empty")]


def test_filled_box_is_not_taken_for_a_corner_mark_in_the_shadow(absences_sheet, layouts):
    """A photo whose top-right corner lies in the phone's shadow (the paper there as dark as the global
    threshold): the filled box of item 1's last option stood in for the lost mark, the page was warped
    askew and seven boxes were misread.  The sheet's own four marks are taken."""
    img, truth = hf.make_page(absences_sheet, 900067, "phone", pens="heldout")
    r = read(img, layouts)
    assert r.kind == "evaluation_sheet" and r.qr_valid
    assert "layout_mismatch" not in r.problem_codes
    assert wrong_boxes(r, truth) == []


def test_uneven_light_of_a_photo_is_evened_out_and_a_scan_left_as_it_is(standard):
    page, _truth = hf.fill_sheet(standard, 5)
    photo_img, _ = hf.photograph(page, 5, turn=0)
    _b, gray, _c = align.to_arrays(photo_img)
    raw = cv2.cvtColor(photo_img, cv2.COLOR_BGR2GRAY)
    assert photo.unevenness(photo.background(raw)) > photo.UNEVEN_MIN
    assert photo.unevenness(photo.background(gray)) < photo.UNEVEN_MIN  # evened out: nothing left to even
    scan_img, _ = hf.scan(page, "heavy", 5, turn=0)
    _b, gray, _c = align.to_arrays(scan_img)
    assert np.array_equal(gray, cv2.cvtColor(scan_img, cv2.COLOR_BGR2GRAY))
