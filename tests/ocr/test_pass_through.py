"""What a box with little or odd ink in it is read as: a stroke that passes through a box along its row (a
remark's line dipping into item 6, a careless long stroke) is not a mark, a tick under such a stroke still
is; a pencil tick a heavy scan nearly wiped out is never read empty without a person, a scanner's streak is
no mark; a pale pen on a lightened scan is a mark, pencil is faint."""
import cv2
import numpy as np

from ocr import CONFIDENT
from ocr import boxes as bx

X, Y, W = 140, 60, 26  # the box's border centre line, canonical pixels (150 dpi)


def _page(stroke=True, tick=False, border=20):
    gray = np.full((160, 340), 245, np.uint8)
    cv2.rectangle(gray, (X, Y), (X + W, Y + W), border, 2)
    cv2.putText(gray, "Xem xet", (X + W + 8, Y + W - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 2)
    if stroke:  # a line of writing sagging across the row, far beyond the box on both sides
        pts = np.array([(20, Y + 10), (X + 5, Y + 13), (X + W + 30, Y + 15), (320, Y + 18)], np.int32)
        cv2.polylines(gray, [pts], False, 60, 4)
    if tick:
        cv2.polylines(gray, [np.array([(X + 6, Y + 14), (X + 11, Y + 21), (X + 21, Y + 5)], np.int32)],
                      False, 60, 3)
    return gray


def _features(gray, x=X, y=Y, w=W):
    return bx.box_features(bx.clean(bx.ink_mask(gray)), x, y, w, gray=gray)


def _read(gray):
    return bx.classify(_features(gray))


def _read_empty_in_doubt(f):
    """The box reads empty, and an item where another box carries a clean tick still goes to a person."""
    cls, conf = bx.classify(f)
    tick = ("tick", "ticked", 1.0, {"ink": 0.3}, "ticked")
    _answer, _conf, status = bx.decide_item([tick, ("this", cls, conf, f, cls)])
    return cls == "empty" and bx.empty_in_doubt(f) and status != "ok"


def test_stroke_passing_through_is_empty_but_its_item_goes_to_a_person():
    assert _read_empty_in_doubt(_features(_page()))  # not applied automatically: a tick may hide under it


def test_tick_under_a_passing_stroke_is_still_marked():
    cls, _conf = _read(_page(tick=True))
    assert cls in bx.MARKED


def test_tick_alone_is_ticked_with_confidence():
    cls, conf = _read(_page(stroke=False, tick=True))
    assert cls == "ticked" and conf >= CONFIDENT


def test_thick_line_of_writing_through_the_box_is_empty_but_its_item_goes_to_a_person():
    # a felt pen's line of writing: a band over a third of the box's height (a 17 pt box at 150 dpi)
    gray = np.full((160, 340), 245, np.uint8)
    x, y, w = 140, 60, 35
    cv2.rectangle(gray, (x, y), (x + w, y + w), 20, 3)
    cv2.putText(gray, "Xem xet", (x + w + 8, y + w - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 2)
    cv2.polylines(gray, [np.array([(20, y + 19), (320, y + 22)], np.int32)], False, 70, 10)
    assert _read_empty_in_doubt(_features(gray, x, y, w))


def test_word_starting_inside_the_box_is_empty_but_its_item_goes_to_a_person():
    gray = _page(stroke=False)
    cv2.polylines(gray, [np.array([(X + 12, Y + 12), (X + W + 40, Y + 14), (330, Y + 16)], np.int32)], False, 60, 4)
    assert _read_empty_in_doubt(_features(gray))


def test_tick_whose_vertex_shows_below_a_thick_line_is_still_marked():
    gray = _page(stroke=False)
    cv2.polylines(gray, [np.array([(20, Y + 12), (320, Y + 13)], np.int32)], False, 70, 8)
    cv2.polylines(gray, [np.array([(X + 6, Y + 12), (X + 11, Y + 22), (X + 21, Y + 8)], np.int32)], False, 70, 2)
    cls, _conf = _read(gray)
    assert cls in bx.MARKED


def _pencil_tick(gray, darker):
    pencil = int(round(245 * (1 - darker)))
    cv2.polylines(gray, [np.array([(X + 6, Y + 13), (X + 11, Y + 21), (X + 21, Y + 5)], np.int32)], False, pencil, 2)
    return gray


def test_pencil_tick_nearly_wiped_out_by_a_heavy_scan_never_reads_empty_without_a_person():
    for darker in (0.08, 0.12, 0.2):  # graphite a heavy scan left 8-20% darker than the paper
        f = _features(cv2.GaussianBlur(_pencil_tick(_page(stroke=False), darker), (0, 0), 0.8))
        cls, conf = bx.classify(f)
        assert cls != "empty" or (conf < CONFIDENT and _read_empty_in_doubt(f)), darker


def test_scanner_streak_through_an_empty_box_is_no_mark():
    gray = _page(stroke=False)
    gray[:, X + 10:X + 12] = (gray[:, X + 10:X + 12] * 0.85).astype(np.uint8)  # a dirty glass: a streak down the page
    f = _features(gray)
    assert bx.classify(f)[0] == "empty" and bx.classify(f)[1] >= CONFIDENT and not bx.empty_in_doubt(f)


def test_pale_pen_on_a_lightened_scan_is_ticked_and_pencil_is_faint():
    # a scan that lightens the page lightens the print and the pen alike: judged against the box's own border
    pale = _page(stroke=False, border=105)
    cv2.polylines(pale, [np.array([(X + 6, Y + 13), (X + 11, Y + 21), (X + 21, Y + 5)], np.int32)], False, 165, 3)
    assert _read(pale)[0] == "ticked"
    pencil = _page(stroke=False)
    cv2.polylines(pencil, [np.array([(X + 6, Y + 13), (X + 11, Y + 21), (X + 21, Y + 5)], np.int32)], False, 175, 3)
    assert _read(pencil)[0] == "faint"
