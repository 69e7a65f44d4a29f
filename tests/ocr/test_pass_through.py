"""A stroke that passes through a box along its row (a remark's line dipping into item 6, a careless long
stroke) is not a mark; a tick under such a stroke still is."""
import cv2
import numpy as np

from ocr import CONFIDENT
from ocr import boxes as bx

X, Y, W = 140, 60, 26  # the box's border centre line, canonical pixels (150 dpi)


def _page(stroke=True, tick=False):
    gray = np.full((160, 340), 245, np.uint8)
    cv2.rectangle(gray, (X, Y), (X + W, Y + W), 20, 2)
    cv2.putText(gray, "Xem xet", (X + W + 8, Y + W - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 2)
    if stroke:  # a line of writing sagging across the row, far beyond the box on both sides
        pts = np.array([(20, Y + 10), (X + 5, Y + 13), (X + W + 30, Y + 15), (320, Y + 18)], np.int32)
        cv2.polylines(gray, [pts], False, 60, 4)
    if tick:
        cv2.polylines(gray, [np.array([(X + 6, Y + 14), (X + 11, Y + 21), (X + 21, Y + 5)], np.int32)],
                      False, 60, 3)
    return gray


def _read(gray):
    f = bx.box_features(bx.clean(bx.ink_mask(gray)), X, Y, W, gray=gray)
    return bx.classify(f)


def test_stroke_passing_through_is_empty_but_never_confident():
    cls, conf = _read(_page())
    assert cls == "empty"
    assert conf < CONFIDENT  # the item goes to a person, it is not applied automatically


def test_tick_under_a_passing_stroke_is_still_marked():
    cls, _conf = _read(_page(tick=True))
    assert cls in bx.MARKED


def test_tick_alone_is_ticked_with_confidence():
    cls, conf = _read(_page(stroke=False, tick=True))
    assert cls == "ticked" and conf >= CONFIDENT
