"""The reader on sheets filled by the INDEPENDENT fill model (tests/support/hand_fill.py).

The reader's thresholds were tuned on the project's own generator; these pages come from a model
written apart from it.  Each test is a finding of issue 9 that must not come back: a scribble next
to a fill read backwards, a circle unseen, a pencil mark read wrong, two filled boxes applied as
one, an upside-down page, blank or show-through sheets queued, item 7 lost.
"""
from __future__ import annotations

import pathlib

import pytest

import ocr
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from tests.support import hand_fill as hf

ITEM6 = "cell_proposal"


def read(img, layouts):
    return ocr.read_page(img, layouts=layouts, hmac_key=KEY, ocr_name=False, want_images=False)


def clean_habits(source, **special):
    habits = {it.key: "clean" for it in source.layout.choice_items()}
    habits.update(special)
    return habits


def assert_never_wrong(r, truth):
    """Applied without a person only when every answer is what the hand meant."""
    if r.auto_applicable:
        assert r.answers == truth["answers"], (r.item_status, truth["habits"])
        assert not truth["doubt"], (r.item_status, truth["habits"])


def test_independent_model_does_not_draw_with_the_reader():
    text = pathlib.Path(hf.__file__).read_text(encoding="utf-8")
    assert "import ocr" not in text and "from ocr" not in text
    code = "\n".join(ln for ln in text.splitlines() if ln.startswith(("import ", "from ")))
    assert "synthetic_sheets" not in code  # shares only the rendered blank sheets (passed in), not its marks


@pytest.mark.parametrize("level", ["medium", "phone"])
@pytest.mark.parametrize("seed", [1, 2])
def test_scribble_next_to_a_fill_is_a_correction_never_applied(standard, layouts, level, seed):
    k = standard.layout.choice_items()[1].key
    img, truth = hf.make_page(standard, seed, level, turn=0, habits=clean_habits(standard, **{k: "correction"}),
                              styles={k: "fill"})
    r = read(img, layouts)
    assert not r.auto_applicable
    assert r.item_status[k] in ("corrected", "multiple")
    assert r.answers[k] in (truth["answers"][k], None)  # proposed the meant box or nothing, never the cancelled one
    code = {"corrected": "item_corrected", "multiple": "item_ambiguous"}[r.item_status[k]]
    prob = next(p for p in r.problems if p["code"] == code)
    assert k in prob["items"] and len(prob["boxes"][k]) == 2  # both boxes outlined for the reviewer


@pytest.mark.parametrize("mark", ["tick", "cross", "slash"])
def test_scribble_next_to_a_mark_is_never_applied(standard, layouts, mark):
    k = standard.layout.choice_items()[0].key
    img, truth = hf.make_page(standard, 11, "medium", turn=0, habits=clean_habits(standard, **{k: "correction"}),
                              styles={k: mark})
    r = read(img, layouts)
    # proposed when the scribble is told from the mark; two marks otherwise: a person decides either way
    assert r.item_status[k] in ("corrected", "multiple") and r.answers[k] in (truth["answers"][k], None)
    assert {"item_corrected", "item_ambiguous"} & set(r.problem_codes) and not r.auto_applicable


@pytest.mark.parametrize("level", ["light", "phone"])
def test_circled_box_is_seen_and_sent_to_review(standard, layouts, level):
    k = standard.layout.choice_items()[3].key
    img, truth = hf.make_page(standard, 21, level, turn=0, habits=clean_habits(standard, **{k: "circle"}))
    r = read(img, layouts)
    assert r.item_status[k] == "circled" and r.answers[k] == truth["answers"][k]
    assert "item_circled" in r.problem_codes and not r.auto_applicable
    circled = [f for f in r.fields if f.kind == "tickbox" and f.box_class == "circled"]
    assert [f.name for f in circled] == [f"{k}.{truth['answers'][k]}"]


@pytest.mark.parametrize("level", ["light", "medium", "phone"])
def test_pencil_mark_is_faint_and_never_applied(standard, layouts, level):
    k = standard.layout.choice_items()[2].key
    img, truth = hf.make_page(standard, 31, level, turn=0, habits=clean_habits(standard, **{k: "pencil"}))
    r = read(img, layouts)
    assert r.item_status[k] in ("faint", "unsure", "none")
    assert r.answers[k] in (truth["answers"][k], None)
    assert not r.auto_applicable
    assert {"item_faint", "item_unsure"} & set(r.problem_codes)


@pytest.mark.parametrize("seed", [41, 42])
def test_two_filled_boxes_are_never_applied_as_one(standard, layouts, seed):
    k = standard.layout.choice_items()[4].key
    img, truth = hf.make_page(standard, seed, "medium", turn=0, habits=clean_habits(standard, **{k: "double"}),
                              styles={k: "fill"})
    r = read(img, layouts)
    # a box filled by hatching can look scribbled out: then it is read as a correction, still reviewed
    assert r.item_status[k] in ("multiple", "corrected") and not r.auto_applicable
    prob = next(p for p in r.problems if p["code"] in ("item_ambiguous", "item_corrected"))
    assert len(prob["boxes"][k]) == 2


@pytest.mark.parametrize("turn", [180, 90])
def test_upside_down_and_turned_pages_with_clean_fills(standard, layouts, turn):
    styles = {it.key: "fill" for it in standard.layout.choice_items()}
    for level in ("heavy", "phone"):
        img, truth = hf.make_page(standard, 51, level, turn=turn, habits=clean_habits(standard), styles=styles)
        r = read(img, layouts)
        assert r.kind == "evaluation_sheet" and r.qr_valid
        assert r.rotation_applied == (360 - turn) % 360 or r.rotation_applied == turn
        assert all(r.answers[k] in (v, None) for k, v in truth["answers"].items()), (r.answers, truth["answers"])
        assert_never_wrong(r, truth)


@pytest.mark.parametrize("level", ["light", "medium", "phone"])
def test_clean_sheet_is_applied_automatically(standard, layouts, level):
    styles = {it.key: s for it, s in zip(standard.layout.choice_items(), ("tick", "cross", "slash", "dot", "tick", "cross"))}
    img, truth = hf.make_page(standard, 61, level, turn=0, habits=clean_habits(standard), styles=styles, remarks=False)
    r = read(img, layouts)
    assert r.answers == truth["answers"] and r.auto_applicable, r.problems
    assert all(s == "ok" for s in r.item_status.values())
    assert {f.box_class for f in r.fields if f.kind == "tickbox"} <= {"empty", "ticked"}


@pytest.mark.parametrize("seed", range(6))
def test_many_hands_never_apply_a_wrong_value(standard, layouts, seed):
    for level in ("medium", "phone"):
        img, truth = hf.make_page(standard, 700 + seed, level,
                                  habit_weights={"clean": 0.5, "correction": 0.1, "double": 0.1, "none": 0.05,
                                                 "circle": 0.1, "pencil": 0.1, "crossing": 0.05})
        assert_never_wrong(read(img, layouts), truth)


def test_remark_crossing_into_item_6_is_kept_and_item_6_read(standard, layouts):
    img, truth = hf.make_page(standard, 3, "medium", turn=0, habits=clean_habits(standard), styles={ITEM6: "tick"},
                              remarks=True)
    r = ocr.read_page(img, layouts=layouts, hmac_key=KEY, ocr_name=False, want_images=True)
    present = r.field("other_remarks_present")
    assert present is not None and present.value is True and present.box
    assert r.crops.get("other_remarks")
    assert r.answers[ITEM6] == truth["answers"][ITEM6]


@pytest.mark.parametrize("level", ["light", "heavy", "phone"])
@pytest.mark.parametrize("show_through", [False, True])
def test_blank_and_show_through_sheets_are_skipped(standard, layouts, level, show_through):
    img, _truth = hf.blank_sheet(standard, 5, level, show_through=show_through)
    r = read(img, layouts)
    assert r.kind == "blank" and r.problem_codes == ["blank"]


@pytest.mark.parametrize("level", ["medium", "phone"])
def test_printed_name_and_date_of_birth_are_read_with_a_confidence(standard, layouts, level):
    """What the service compares with the QR's member (name_mismatch)."""
    img, _truth = hf.make_page(standard, 9, level, turn=0)
    r = ocr.read_page(img, layouts=layouts, hmac_key=KEY, want_images=False)
    name, dob = r.field("member_full_name"), r.field("member_date_of_birth")
    # the service compares names folded (a tone mark misread on a phone photo is not another person)
    from forms.folding import fold
    assert fold(name.value) == fold(standard.record["member_full_name"]) and name.confidence >= 0.8
    assert dob.value == standard.record["member_date_of_birth"].strftime("%d/%m/%Y") and dob.confidence >= 0.8


@pytest.mark.parametrize("level", ["light", "phone"])
def test_hatched_fill_is_read_filled_and_applied(standard, layouts, level):
    """A box blackened by hatching back and forth (ink over ink) is a fill, not a cancelled box:
    with every other box empty the sheet is applied without a person."""
    styles = {it.key: "fill" for it in standard.layout.choice_items()}
    img, truth = hf.make_page(standard, 81, level, turn=0, habits=clean_habits(standard), styles=styles,
                              remarks=False)
    r = read(img, layouts)
    marked = {f.name: f.box_class for f in r.fields if f.kind == "tickbox" and f.box_class != "empty"}
    assert set(marked.values()) == {"filled"}, marked
    assert r.answers == truth["answers"] and r.auto_applicable, (r.item_status, r.problem_codes)


@pytest.mark.parametrize("level", ["light", "heavy", "phone"])
def test_empty_remark_area_has_no_writing(standard, exempt, layouts, level):
    """Dotted lines, the printed heading, scanner dust and streaks are not writing: an applied page
    with an empty item 7 queues nothing for transcription."""
    for src, seed in ((standard, 91), (exempt, 92)):
        img, _truth = hf.make_page(src, seed, level, turn=0, habits=clean_habits(src), remarks=False)
        present = read(img, layouts).field("other_remarks_present")
        assert present.value is False and present.confidence >= 0.8, (src.layout.variant, present)


@pytest.mark.parametrize("level", ["medium", "phone"])
def test_faint_short_remark_is_seen(standard, layouts, level):
    """One short word in pencil on the first dotted line of item 7 is writing."""
    import numpy as np
    rng = np.random.default_rng(5)
    img, _truth = hf.fill_sheet(standard, 93, habits=clean_habits(standard), remarks=False)
    s = standard.dpi / 72.0
    ox, oy = standard.layout.origin
    x, y, w, h = standard.layout.regions["other_remarks"]
    area = ((ox + x) * s, (oy + y) * s, w * s, h * s)
    pencil = hf.Hand(pen=hf.PENCIL, width=0.05, size=1.0, tremor=0.01, favourite="tick")
    # a word about a tenth of the line long, on the second line
    hf.handwriting(img, (area[0] + area[2] * 0.3, area[1] + area[3] * 0.25, area[2] * 0.12, area[3]), rng,
                   pencil, 1)
    out, _info = hf.degrade(img, level, 93, turn=0)
    present = read(out, layouts).field("other_remarks_present")
    assert present.value is True, present


@pytest.mark.parametrize("level", ["light", "heavy", "phone"])
def test_printed_absences_in_item_7_are_not_writing(absences_sheet, layouts, level):
    """Version 2 prints the year's recorded absences ahead of item 7's lines: a sheet with nothing
    written is applied with nothing queued for transcription, and a remark written on the free line
    below them is seen."""
    src = absences_sheet
    assert len(src.record["prefilled_remarks"]) == 2
    img, truth = hf.make_page(src, 95, level, turn=0, habits=clean_habits(src), remarks=False)
    r = read(img, layouts)
    present = r.field("other_remarks_present")
    assert present.value is False and present.confidence >= 0.8, present
    assert r.answers == truth["answers"] and r.auto_applicable, r.problem_codes
    img, truth = hf.make_page(src, 95, level, turn=0, habits=clean_habits(src), remarks=True)
    present = read(img, layouts).field("other_remarks_present")
    assert present.value is True, present


# ---------------------------------------------------------------------------
# the REPORT pens (bench/ocr.py --pens report, run once at the end): what they draw, checked without the reader
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("style", hf.REPORT_STYLES)
def test_report_shapes_mark_the_boxes_their_truth_names(standard, style):
    """Every report shape lands where the truth says and looks like its class: ink in a ticked box, a
    filled box mostly inked, a circled box ringed with its inside clean, a faint mark light, empty boxes clean."""
    import numpy as np
    items = standard.layout.choice_items()
    img, truth = hf.fill_sheet(standard, 301, pens="report", habits=clean_habits(standard),
                               styles={it.key: style for it in items}, remarks=False)
    pen = truth["hand"]["pen"]
    assert truth["hand"]["pens"] == "report" and tuple(pen) in hf.REPORT_PENS.values()
    assert set(truth["styles"].values()) == {style}
    diff = np.abs(img.astype(int) - standard.image.astype(int)).max(axis=2)
    full = 255 - min(pen)  # how dark this ink is at full pressure
    for it in items:
        for o in it.options:
            x, y, w, h = hf._box_px(standard, o.box)
            inner = diff[int(y + 0.2 * h):int(y + 0.8 * h), int(x + 0.2 * w):int(x + 0.8 * w)]
            ring = diff[int(y - 0.9 * h):int(y + 1.9 * h), int(x - 0.9 * w):int(x + 1.9 * w)]
            cls = truth["boxes"][f"{it.key}.{o.key}"]
            assert cls == ("empty" if o.key != truth["answers"][it.key] else hf.BOX_CLASS[style])
            where = (it.key, o.key, cls)
            if cls == "empty":
                assert (inner > 30).sum() == 0, where
            elif cls == "filled":
                assert (inner > 60).mean() > 0.6, where
            elif cls == "ticked":
                assert (inner > 60).sum() >= 15, where
            elif cls == "circled":
                assert (inner > 30).sum() == 0 and (ring > 60).sum() > 50, where
            else:
                assert cls == "faint" and (inner > 15).sum() > 5 and inner.max() <= 0.5 * full + 5, where


def test_report_hands_keep_to_their_own_pens_and_shapes(standard):
    """Report hands never take a tuning or held-out ink or shape; their corrections are coiled (scribbled),
    their second marks of a double are report shapes."""
    import numpy as np
    assert not set(hf.REPORT_PENS.values()) & (set(hf.PENS.values()) | set(hf.HELD_OUT_PENS.values()))
    assert not set(hf.REPORT_STYLES) & set(hf.STYLES)
    habits = {"clean": 0.3, "correction": 0.2, "double": 0.2, "circle": 0.15, "pencil": 0.15}
    classes = set()
    for seed in range(5):
        img, truth = hf.fill_sheet(standard, 400 + seed, pens="report", habit_weights=habits, remarks=False)
        assert set(truth["styles"].values()) <= set(hf.REPORT_STYLES), truth["styles"]
        for name, cls in truth["boxes"].items():
            classes.add(cls)
            if cls == "scribbled":
                it_key, key = name.split(".")
                box = next(o.box for it in standard.layout.choice_items() if it.key == it_key
                           for o in it.options if o.key == key)
                x, y, w, h = (int(v) for v in hf._box_px(standard, box))
                diff = np.abs(img[y:y + h, x:x + w].astype(int) - standard.image[y:y + h, x:x + w]).max(axis=2)
                assert (diff > 60).sum() > 0.15 * w * h, name
    assert classes == {"empty", "ticked", "filled", "circled", "faint", "scribbled"}


@pytest.mark.parametrize("level", ["light", "medium", "heavy"])
def test_report_pens_go_through_the_report_scanner(standard, level):
    """Report pages: yellowish paper under a copier's grey, at a resolution step of the report scanner
    (photographs of report pages: tests/ocr/test_foreign_forms.py)."""
    import numpy as np
    img, truth = hf.make_page(standard, 501, level, turn=0, pens="report", remarks=False)
    info = truth["degradation"]
    assert info["model"] == "report" and info["turn"] == 0
    assert info["dpi"] in hf.REPORT_DPI[level]
    assert abs(img.shape[0] - standard.image.shape[0] * info["dpi"] / standard.dpi) <= 2
    b, _g, r = np.median(img.reshape(-1, 3), axis=0)  # the paper
    assert r - b >= 8 and r < 248, (b, r)
    if level == "heavy":  # other pens: the usual scanner
        _img, truth = hf.make_page(standard, 501, level, turn=0, pens="heldout", remarks=False)
        assert "model" not in truth["degradation"]
