"""Forms we did not print: the synonym table (data beside the definition) and reading the answers of
forms that cells retyped in their own layouts and wordings, filled by hand (tests/support/foreign_forms.py).

Real tesseract, real rendering; pages from the TUNE split (the held-out split is only for bench/foreign_forms.py).
"""
from __future__ import annotations

import json

import pytest

import ocr
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from forms import synonyms as synmod
from forms.folding import fold
from tests.support import foreign_forms as ff


def test_folding_is_the_one_helper():
    from ocr import identify
    assert identify.fold is fold
    assert fold("  Tham gia ĐẦY   ĐỦ ") == "tham gia day du"
    assert fold("Chưa thực hiện") == fold("Chua thuc hien")


def test_synonym_table_fits_the_definition(definition):
    table = synmod.load(synmod.path_for("evaluation_sheet"), definition)
    standard = {it.key: it for it in definition.items("standard")}
    exempt = {it.key: it for it in definition.items("exempt")}
    # the definition's own wording first, then the cells' wordings, per variant's options
    opts = table.options_for(standard["citizen_duties"])
    assert opts["leading"][0] == "Gương mẫu đi đầu" and "Thực hiện tốt" in opts["leading"]
    assert "Chưa tốt" in opts["not_exemplary"]
    assert set(table.options_for(exempt["citizen_duties"])) == {"done_well", "done", "not_done"}
    assert "Có tham gia" in table.options_for(standard["meetings"])["partial"]
    assert table.labels_for(standard["setting_example"])[0] == standard["setting_example"].label


@pytest.mark.parametrize("change, where", [
    (lambda d: d["items"].append({"key": "no_such_item", "labels": ["X"], "options": {}}), "no_such_item"),
    (lambda d: d["items"][0]["options"].__setitem__("nope", ["Tốt lắm"]), "nope"),
    # one wording for two options of one item: refused (folded: "Chua tot" is "Chưa tốt")
    (lambda d: d["items"][0]["options"]["good_example"].append("Chua tot"), "good_example lẫn no_example"),
    (lambda d: d["items"][0]["options"].__setitem__("example", []), "example"),
])
def test_bad_synonym_table_is_refused_with_a_vietnamese_message(tmp_path, definition, change, where):
    data = json.loads(synmod.path_for("evaluation_sheet").read_text(encoding="utf-8"))
    change(data)
    p = tmp_path / "evaluation_sheet.synonyms.json"
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(synmod.SynonymError) as ei:
        synmod.load(p, definition)
    assert where in ei.value.message_vi and ei.value.message_vi != synmod.SynonymError.message_vi
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(synmod.SynonymError) as ei:
        synmod.load(p)
    assert "Không đọc được" in ei.value.message_vi


def _read(img, layouts, members):
    return ocr.read_page(img, layouts=layouts, hmac_key=KEY, members_hint=members, want_images=False)


def _right(r, truth):
    return sum(r.answers.get(k) == v for k, v in truth["answers"].items())


@pytest.mark.parametrize("layout, seed", [("boxes_inline", 3), ("glyph_typed", 4), ("free_text", 2),
                                          ("table_ticks", 5)])
def test_retyped_form_answers_are_pre_read_and_reviewed(layouts, members, layout, seed):
    """Own layouts and wordings of a cell, marked by hand, scanned: the answers are pre-read from the
    marks next to the options found by their meaning, never confidently (a person reviews)."""
    target = members[seed % len(members)]
    img, truth = ff.make_form(target, seed, split="tune", layout=layout, level="light", turn=0)
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and "foreign_form" in r.problem_codes and not r.auto_applicable
    n = len(truth["answers"])
    assert _right(r, truth) >= n - 1, (truth, r.answers, r.item_status)
    assert all(r.answers[k] in (None, v) for k, v in truth["answers"].items()) or _right(r, truth) >= n - 1
    assert all(c < ocr.CONFIDENT for c in r.answer_confidence.values())
    prop = r.field("proposed_member_id")
    assert prop is not None and prop.value == target["id"]


def test_circled_words_are_read_or_left_to_the_reviewer(layouts, members):
    """Options on one line, the chosen word circled.  With a blue ballpoint the OCR reads the words with the
    pen's strokes taken out and the circle decides; with a black pen the circled word may be lost to the OCR:
    then the item is left empty rather than guessed."""
    img, truth = ff.make_form(members[0], 7, split="tune", layout="circled", level="light", turn=0, pen="blue")
    r = _read(img, layouts, members)
    assert _right(r, truth) >= len(truth["answers"]) - 1, (truth, r.answers, r.item_status)
    img, truth = ff.make_form(members[0], 7, split="tune", layout="circled", level="light", turn=0, pen="black")
    r = _read(img, layouts, members)
    wrong = [k for k, v in truth["answers"].items() if r.answers.get(k) not in (None, v)]
    assert len(wrong) <= 1, (truth, r.answers, r.item_status)
    assert all(c < ocr.CONFIDENT for c in r.answer_confidence.values())


@pytest.mark.parametrize("turn", [180, 90])
def test_turned_retyped_form_is_turned_upright(layouts, members, turn):
    target = members[2]
    img, truth = ff.make_form(target, 11, split="tune", layout="boxes_inline", level="light", turn=turn)
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form"
    assert (r.rotation_applied + turn) % 360 == 0
    assert _right(r, truth) >= len(truth["answers"]) - 1, (truth, r.answers)
    assert r.field("proposed_member_id").value == target["id"]


def test_a_duty_without_a_mark_is_left_to_the_reviewer(layouts, members):
    """No pre-read answer is invented: an item nobody marked stays empty."""
    import cv2
    import numpy as np
    img, truth = ff.make_form(members[1], 3, split="tune", layout="boxes_inline", level=None)
    r0 = _read(img, layouts, members)
    assert _right(r0, truth) >= len(truth["answers"]) - 1
    # the same page with no hand marks at all (pen ink -> paper)
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    clean = img.copy()
    clean[(hsv[:, :, 1] > 60) | ((img.max(axis=2) < 90) & (np.abs(img.astype(int)[:, :, 0] - img[:, :, 2]) > 40))] = 255
    assert (hsv[:, :, 1] > 60).sum() >= 200, "this page (seed 3) is marked in coloured ink, which the cleaning removes"
    r = _read(clean, layouts, members)
    assert all(v is None for v in r.answers.values()), r.answers


def _typed_lines(rows):
    """OCR lines as ocr.foreign.ocr_words gives them, for a duty's label and its options (no image)."""
    out, y = [], 100
    for row in rows:
        x, words = 120, []
        for t in row.split(" "):
            if t == "_":  # a wide gap between two options
                x += 90
                continue
            words.append({"text": t, "x": x, "y": y, "w": 14 * len(t), "h": 24, "conf": 90.0, "line": len(out)})
            x += 14 * len(t) + 12
        out.append(words)
        y += 40
    from ocr import foreign as fo
    return fo._lines([w for ws in out for w in ws])


@pytest.mark.parametrize("row, want", [
    # a scale the table does not know for this duty: ranks from the other duties' wordings, in order
    ("Hoàn thành tốt _ Hoàn thành _ Chưa hoàn thành", ["very_active", "active", "not_active"]),
    # worst first: the order is read backwards ("Chưa ..." is the worst option)
    ("Chưa hoàn thành _ Hoàn thành _ Hoàn thành tốt", ["not_active", "active", "very_active"]),
    # "Tốt" is the best option in the table, but between "Xuất sắc" and "Chưa tốt" it is the middle one
    ("Xuất sắc _ Tốt _ Chưa tốt", ["very_active", "active", "not_active"]),
    # a two-level scale: its ends are the duty's ends
    ("Đạt / Chưa đạt", ["very_active", "not_active"]),
])
def test_options_are_found_by_meaning_and_order(layouts, row, want):
    from ocr import foreign as fo
    lay = next(lay for lay in layouts if lay.variant == "standard")
    table = synmod.for_kind("evaluation_sheet")
    it = next(i for i in lay.items if i.key == "local_activities")
    lines = _typed_lines(["5. Tham gia phong trào ở nơi cư trú", row])
    spans = fo.options_by_order(lines, [0, 1], {0: len(lines[0]["words"])}, table.options_for(it),
                                [o.key for o in it.options], fo.rank_lexicon(layouts, table), 24)
    assert [s.key for s in sorted(spans, key=lambda s: s.i)] == want


@pytest.mark.parametrize("split,layout,member", [
    # a layout the reader was not tuned on: each option on its own row, its box far to the right, another font
    ("heldout", "boxes_after", 3),
    # no printed box: a hand tick AFTER the chosen wording (the reader also looks after the wording, where
    # one option stands out over the ink the options share)
    ("tune", "tick_after", 1),
    # one table row per duty, each option in its own cell: the options are taken from the duty's row (not
    # from a row above taken for a header), the tick from its cell
    ("tune", "table_cells", 4),
])
def test_layouts_of_other_cells_are_pre_read(layouts, members, split, layout, member):
    """Answers pre-read from the marks of a retyped form's own layout, still only proposed."""
    img, truth = ff.make_form(members[member], member, split=split, layout=layout, level="light", turn=0)
    r = _read(img, layouts, members)
    assert r.kind == "foreign_form" and not r.auto_applicable
    assert _right(r, truth) >= len(truth["answers"]) - 1, (truth["answers"], r.answers, r.item_status)
    assert not [k for k, v in truth["answers"].items() if r.answers.get(k) not in (None, v)]


# ---------------------------------------------------------------------------
# the REPORT split (run once at the end, never tuned on): what the generator draws, checked without the reader
# ---------------------------------------------------------------------------

def _known_wordings(definition):
    """Folded wordings the reader may have seen: the synonym table, the definition and the other splits."""
    table = json.loads(synmod.path_for("evaluation_sheet").read_text(encoding="utf-8"))
    known = set()
    for it in table["items"]:
        known.update(it["labels"])
        for words in it["options"].values():
            known.update(words)
    for variant in ("standard", "exempt"):
        for it in definition.items(variant):
            known.add(it.label)
            known.update(o.label for o in getattr(it, "options", None) or ())
    for scales in (ff.TUNE_SCALES, ff.UNSEEN_SCALES, ff.FRESH_SCALES):
        known.update(w for scale in scales for w, _r in scale)
    for d in (ff.UNSEEN_LABELS, ff.UNSEEN_PROPOSAL, ff.FRESH_LABELS, ff.FRESH_PROPOSAL):
        known.update(d.values())
    return {fold(w) for w in known}


def test_report_wordings_are_in_neither_the_synonym_table_nor_another_split(definition):
    known = _known_wordings(definition)
    assert fold("Không có kiến nghị") in known and fold("Tốt") in known  # the check sees the table
    new = (list(ff.REPORT_LABELS.values()) + list(ff.REPORT_PROPOSAL.values())
           + [w for scale in ff.REPORT_SCALES for w, _r in scale])
    assert not [w for w in new if fold(w) in known]
    assert set(ff.REPORT_PROPOSAL) == {"commend", "no_proposal", "consider_discipline"}
    for scale in ff.REPORT_SCALES:  # best first, worst last: the option key meant keeps its meaning
        assert scale[0][1] == 0 and scale[-1][1] == -1
    other_fonts = set(ff.TUNE_FONTS) | set(ff.HELDOUT_FONTS) | set(ff.FRESH_FONTS) | {ff._FONT_SMALL}
    assert not set(ff.REPORT_FONTS) & other_fonts
    assert not {"glyph_list", "table_answer", "brackets", "lettered"} & set(
        ff.TUNE_LAYOUTS + ff.HELDOUT_LAYOUTS + ff.FRESH_LAYOUTS)


def test_report_split_draws_its_own_layouts_fonts_and_wordings():
    """Forty pages of the report split: every layout, only its fonts, its wordings (some without
    diacritics, some worst first) and each page feature."""
    member = {"id": 1, "full_name": "Nguyễn Thị Hòa"}
    seen = {"layout": set(), "font": set(), "wording": set(), "reverse": set(), "feature": set()}
    for seed in range(40):
        _img, t = ff.make_form(member, seed, split="report", level=None)
        seen["layout"].add(t["layout"])
        seen["font"].add(t["font"])
        seen["wording"].add(t["wording"])
        seen["reverse"].add(t["reverse"])
        seen["feature"].update(k for k, v in t["features"].items() if v is True)
        seen["feature"].add(t["features"]["bracket_mark"])
        report_words = {w for s in ff.REPORT_SCALES for w, _r in s} | set(ff.REPORT_PROPOSAL.values())
        if t["wording"] == "report":
            assert all(w in report_words for ws in t["wordings"].values() for w in ws.values()), t["wordings"]
            assert set(t["labels"][k] for k in t["labels"]) <= (
                set(ff.REPORT_LABELS.values()) | {v.upper() for v in ff.REPORT_LABELS.values()})
        if t["wording"] == "report_plain":
            assert all(w.isascii() for ws in t["wordings"].values() for w in ws.values()), t["wordings"]
    assert seen["layout"] == set(ff.REPORT_LAYOUTS)
    assert seen["font"] <= set(ff.REPORT_FONTS) and len(seen["font"]) >= 3
    assert seen["wording"] == {"report", "report_plain", "official"} and seen["reverse"] == {True, False}
    assert {"upper", "header_table", "narrow", "underline", "circle"} <= seen["feature"]


def _ink(img):
    return img.min(axis=2) < 150


@pytest.mark.parametrize("layout, seed", [(lay, n + 3) for n, lay in enumerate(ff.REPORT_LAYOUTS)])
def test_report_page_prints_its_truth_and_marks_the_meant_option(layout, seed):
    """On an undegraded report page: each option's wording is typed where the truth says (re-rendered with
    the truth's font, it covers the page's ink), and the hand's only ink is a mark beside the meant option."""
    import cv2
    import numpy as np
    from PIL import Image, ImageDraw
    member = {"id": 4, "full_name": "Trần Văn Bình", "date_of_birth": "02/09/1961"}
    marked, t = ff.make_form(member, seed, split="report", level=None, layout=layout)
    typed, t0 = ff.make_form(member, seed, split="report", level=None, layout=layout, hand_marks=False)
    assert t0["answers"] == t["answers"] and t["layout"] == layout and t["split"] == "report"
    page = _ink(typed)
    for item, opts in t["wordings"].items():
        assert set(t["printed"][item]) == set(opts), item
        for key, word in opts.items():
            pr = t["printed"][item][key]
            assert pr["text"] == (f"({word})" if layout == "brackets" else word)
            assert 20 <= pr["bbox"][0] and pr["bbox"][2] <= ff.W - 20, (item, key, pr)  # on the page
            x0, y0, x1, y1 = (int(v) for v in pr["bbox"])
            canvas = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 255)  # the wording typed again, alone
            ImageDraw.Draw(canvas).text((pr["xy"][0] - x0, pr["xy"][1] - y0), pr["text"],
                                        font=ff._font(pr["font"], pr["size"]), fill=0)
            want = np.asarray(canvas) < 128
            got = page[y0:y0 + want.shape[0], x0:x0 + want.shape[1]]
            assert want.sum() > 30 and (got & want).sum() >= 0.97 * want.sum(), (item, key, pr)
    diff = np.abs(marked.astype(int) - typed.astype(int)).max(axis=2) > 40
    near = np.zeros(diff.shape, bool)
    size = t["size"]
    for item, meant in t["answers"].items():
        kind, b = t["marks"][item]
        x0, y0, x1, y1 = b if kind in ("circle", "underline") else (b[0], b[1], b[0] + b[2], b[1] + b[3])
        m = int(1.5 * size)
        region = (slice(max(0, int(y0) - m), int(y1) + m), slice(max(0, int(x0) - m), int(x1) + m))
        assert diff[region].sum() > 20, (item, kind, b)  # a mark is drawn there
        near[region] = True
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

        def dist(pr):
            bx0, by0, bx1, by1 = pr["bbox"]
            if layout == "table_ticks" and item != "cell_proposal":  # a column of the scale: its head above
                return abs((bx0 + bx1) / 2 - cx)
            return max(bx0 - cx, 0, cx - bx1) + 3 * max(by0 - cy, 0, cy - by1)
        nearest = min(t["printed"][item], key=lambda k: dist(t["printed"][item][k]))
        assert nearest == meant, (item, kind, b, t["printed"][item])
    assert not (diff & ~near).any()  # no other ink of the hand on the page
    assert cv2.countNonZero(diff.astype(np.uint8)) > 0


def test_report_pages_are_scanned_and_photographed_by_the_report_models():
    member = {"id": 5, "full_name": "Lê Thị Mai"}
    img, t = ff.make_form(member, 9, split="report", level="medium", turn=90)
    assert t["degradation"]["model"] == "report" and t["degradation"]["turn"] == 90
    assert img.shape[1] > img.shape[0]  # turned: landscape
    img, t = ff.make_form(member, 9, split="report", level="phone", turn=0)
    assert t["degradation"] == {"level": "phone", "turn": 0, "model": "report"}
