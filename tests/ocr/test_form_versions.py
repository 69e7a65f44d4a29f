"""Sheets of every released version read back, and the marks follow their form definition:
a test copy of version 2 with another kind code and other mark sizes is built, rendered, filled and
read with no change of code."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

import ocr
from docgen.samples import MARK_KEY_FOR_TESTS as KEY
from forms import qrpayload
from forms.definition import load
from tests.support import synthetic_sheets as syn

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def read(img, layouts, **kw):
    return ocr.read_page(img, layouts=layouts, hmac_key=KEY, want_images=False, ocr_name=False, **kw)


def test_new_sheets_are_version_2_and_a_version_1_sheet_still_reads(sources, layouts):
    assert {lay.version for lay in layouts} == {2}
    v1 = syn.render_sources(syn.sample_records(1), mark_key=KEY, template_path=TEMPLATES / "evaluation_sheet.v1.docx")
    every = layouts + syn.layouts_of(v1)
    for level, seed in (("light", 3), ("heavy", 4)):
        img, truth = syn.make_page(v1[0], seed, level, fill_kw=dict(scribble_items=0))
        r = read(img, every)
        assert r.kind == "evaluation_sheet" and r.qr_valid and r.qr["version"] == 1
        assert r.layout_key == ("evaluation_sheet", 1, "standard")
        assert r.answers == truth["expected"], (r.item_status, truth)
    # and a version 2 sheet among them is read on its own layout
    img, truth = syn.make_page(sources[0], 5, "medium", fill_kw=dict(scribble_items=0))
    r = read(img, every)
    assert r.layout_key == ("evaluation_sheet", 2, "standard") and r.answers == truth["expected"]


def test_a_correction_on_version_2_is_proposed_and_never_applied(standard, layouts):
    """The sheet says how to correct (scribble the box out, mark another): read by that convention."""
    assert load(TEMPLATES / "evaluation_sheet.v2.form.json").correction_hint
    img, truth = syn.make_page(standard, 21, "light", fill_kw=dict(scribble_items=1))
    r = read(img, layouts)
    assert truth["scribbled"]
    (k,) = truth["scribbled"]
    assert not r.auto_applicable
    assert {"item_corrected", "item_ambiguous"} & set(r.problem_codes)
    assert r.item_status[k] in ("corrected", "multiple")


def _builder():
    spec = importlib.util.spec_from_file_location("build_templates_copy", TEMPLATES / "build_templates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_kind_code_and_mark_geometry_come_from_the_definition(tmp_path, layouts):
    raw = json.loads((TEMPLATES / "evaluation_sheet.v2.form.json").read_text(encoding="utf-8"))
    raw.update(version=7, kind_code="EV", template="evaluation_sheet.v7.docx")
    raw["marks"].update(box_mm=7.5, label_mm=47, corner_mark_mm=6.5, qr_mm=25)
    def_path = tmp_path / "evaluation_sheet.v7.form.json"
    def_path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    definition = load(def_path)
    build = _builder()
    build.save_deterministic(build.build_evaluation_sheet_v2(definition), tmp_path / "evaluation_sheet.v7.docx")

    src = syn.render_sources(syn.sample_records(1), mark_key=KEY, template_path=tmp_path / "evaluation_sheet.v7.docx")
    lay = src[0].layout
    mm = 72 / 25.4
    assert lay.kind_code == "EV" and lay.version == 7
    assert all(abs(box[2] - 7.5 * mm) < 1.0 for _i, _o, box in lay.all_boxes())
    assert abs(lay.mark_size - 6.5 * mm) < 1.0 and abs(lay.qr[2] - 25 * mm) < 1.5
    # the QR names the kind by the definition's code, and reads back with it
    assert ":EV:7:" in src[0].qr_payload and ":ES:" not in src[0].qr_payload
    assert qrpayload.verify(src[0].qr_payload, KEY, {"EV": "evaluation_sheet"}).kind == "evaluation_sheet"
    img, truth = syn.make_page(src[0], 8, "medium", fill_kw=dict(scribble_items=0))
    r = read(img, layouts + [lay])
    assert r.qr_valid and r.qr["kind"] == "evaluation_sheet" and r.layout_key == ("evaluation_sheet", 7, "standard")
    assert r.answers == truth["expected"], (r.item_status, truth)
    # a reader that does not know the code does not take the page for an evaluation sheet of ours
    r = read(img, layouts)
    assert r.qr is None or r.qr["kind"] != "evaluation_sheet"
