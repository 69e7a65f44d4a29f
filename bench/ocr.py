"""Benchmark of the scan reader on synthetic pages.

    python bench/ocr.py --pages 300            # 100 pages per level, 2 worker processes

Renders a few distinct sheets once (docgen -> LibreOffice, cached), then for
every page draws different marks, re-signs the QR for another member and
degrades the page (light / medium / heavy), writes it as PNG, and reads all
pages in a Pool(2) with OMP_THREAD_LIMIT=1.  Retyped forms (no QR, no marks)
are added per level to measure the member proposal.

Prints the rates per level and ends with one JSON line per level:
level, identification_rate, tickbox_accuracy, wrong_applied_rate,
auto_applied_share, pages_per_min, foreign_member_match_rate (fractions 0..1;
pages_per_min counts our sheets read with the given number of workers).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402

cv2.setNumThreads(1)

import ocr  # noqa: E402
from ocr import synthetic as syn  # noqa: E402
from docgen import find_template, load_definition, samples  # noqa: E402

KEY = samples.MARK_KEY_FOR_TESTS
LEVELS = syn.LEVELS
G: dict = {}  # inherited by the forked workers


def _members(n: int) -> list[dict]:
    first = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
    mid = ["Văn", "Thị", "Đức", "Ngọc", "Minh", "Thu", "Quốc", "Thanh"]
    last = ["Ánh", "Hường", "Thắng", "Ước", "Yến", "Anh", "Hương", "Thành", "Lan", "Tuấn", "Dũng", "Hà"]
    out = []
    for i in range(n):
        out.append({"id": 1000 + i, "full_name": f"{first[i % 10]} {mid[(i // 10) % 8]} {last[(i * 7) % 12]}",
                     "date_of_birth": dt.date(1965 + i % 30, 1 + i % 12, 1 + (i * 3) % 28),
                     "workplace_org_name": ["Sở Tài chính", "Sở Y tế", "Sở Giáo dục và Đào tạo"][i % 3],
                     "residence_cell_name": f"Chi bộ Tổ dân phố số {1 + i % 20}"})
    return out


def _gen(task):
    kind, level, i, path = task
    seed = hash((level, i)) % 10_000_000 if False else (LEVELS.index(level) * 100_000 + i)
    if kind == "sheet":
        src = G["sources"][i % len(G["sources"])]
        img, truth = syn.make_page(src, seed, level,
                                   fill_kw=dict(member_id=str(20000 + seed), mark_key=KEY))
    else:
        img0 = G["foreign"][i % len(G["foreign"])]
        img, info = syn.degrade(img0, level, seed, orientation=0)
        truth = {"member_id": G["foreign_ids"][i % len(G["foreign_ids"])], "degradation": info}
    cv2.imwrite(path, img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return kind, level, path, truth


def _read(task):
    kind, level, path, truth = task
    t = time.perf_counter()
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    r = ocr.read_page(img, layouts=G["layouts"], hmac_key=KEY,
                      members_hint=G["members"] if kind == "foreign" else None)
    el = time.perf_counter() - t
    boxes = {f.name: f.value for f in r.fields if f.kind == "tickbox"}
    prop = r.field("proposed_member_id")
    return {"kind": kind, "level": level, "truth": truth, "read_kind": r.kind, "member_id": r.member_id,
            "answers": r.answers, "boxes": boxes, "auto": r.auto_applicable, "problems": r.problem_codes,
            "proposed": prop.value if prop else None, "seconds": el}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300, help="sheet pages in all (split over the 3 levels)")
    ap.add_argument("--foreign", type=int, default=10, help="retyped forms per level")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sources", type=int, default=6, help="distinct rendered sheets")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    recs = syn.sample_records(args.sources, variants=("standard",) * (args.sources - 1) + ("exempt",))
    G["sources"] = syn.render_sources(recs, mark_key=KEY)
    G["layouts"] = syn.layouts_of(G["sources"])
    definition = load_definition(find_template("evaluation_sheet").definition_path)
    members = _members(400)
    G["members"] = members
    fmembers = [members[k] for k in range(0, 400, 37)][:max(1, min(args.foreign, 11))]
    answers = [{it.key: it.options[(j + n) % len(it.options)].key
                for n, it in enumerate(G["sources"][0].layout.choice_items())} for j in range(len(fmembers))]
    G["foreign"] = syn.render_foreign_sources(definition, fmembers, answers) if args.foreign else []
    G["foreign_ids"] = [m["id"] for m in fmembers]
    print(f"rendered {len(recs)} sheets and {len(G['foreign'])} retyped forms in {time.perf_counter() - t0:.1f} s")

    per_level = max(1, args.pages // len(LEVELS))
    with tempfile.TemporaryDirectory(prefix="noicutru-bench-") as tmp:
        tasks = []
        for level in LEVELS:
            for i in range(per_level):
                tasks.append(("sheet", level, i, os.path.join(tmp, f"{level}-{i:04d}.png")))
            for i in range(args.foreign):
                tasks.append(("foreign", level, i, os.path.join(tmp, f"{level}-f{i:04d}.png")))
        t = time.perf_counter()
        with Pool(args.workers) as pool:
            generated = pool.map(_gen, tasks, chunksize=4)
        print(f"generated {len(generated)} pages in {time.perf_counter() - t:.1f} s")
        sheets = [g for g in generated if g[0] == "sheet"]
        foreign = [g for g in generated if g[0] == "foreign"]
        with Pool(args.workers) as pool:
            t = time.perf_counter()
            res_sheets = pool.map(_read, sheets, chunksize=2)
            wall_sheets = time.perf_counter() - t
            t = time.perf_counter()
            res_foreign = pool.map(_read, foreign, chunksize=1) if foreign else []
            wall_foreign = time.perf_counter() - t
    print(f"read {len(res_sheets)} sheet pages in {wall_sheets:.1f} s, {len(res_foreign)} retyped forms in "
          f"{wall_foreign:.1f} s ({args.workers} workers)")

    lines = []
    for level in LEVELS:
        rs = [r for r in res_sheets if r["level"] == level]
        fs = [r for r in res_foreign if r["level"] == level]
        n = len(rs)
        ident = sum(r["member_id"] == r["truth"]["member_id"] for r in rs) / n
        box_ok = box_n = item_ok = item_n = 0
        wrong_auto = auto = 0
        for r in rs:
            tr = r["truth"]
            for name, val in r["boxes"].items():
                ik, ok = name.split(".")
                ticked = tr["answers"].get(ik) == ok or tr["scribbled"].get(ik) == ok
                box_ok += (val == "ticked") == ticked and val != "unsure"
                box_n += 1
            for k, v in tr["expected"].items():
                item_ok += r["answers"].get(k) == v
                item_n += 1
            if r["auto"]:
                auto += 1
                wrong = r["member_id"] != tr["member_id"] or any(r["answers"].get(k) != v
                                                                 for k, v in tr["expected"].items())
                wrong_auto += wrong
        sec = sum(r["seconds"] for r in rs)
        ppm = n / (wall_sheets * n / len(res_sheets)) * 60 if wall_sheets else 0.0
        fmatch = (sum(r["proposed"] == r["truth"]["member_id"] for r in fs) / len(fs)) if fs else None
        fkind = (sum(r["read_kind"] == "foreign_form" for r in fs) / len(fs)) if fs else None
        print(f"\n== {level}: {n} sheet pages, {len(fs)} retyped forms")
        print(f"  member identified (valid QR, right id): {ident:.1%}")
        print(f"  tick-box accuracy: {box_ok / box_n:.2%} of {box_n} boxes; items right: {item_ok / item_n:.2%}")
        print(f"  auto-applied pages: {auto / n:.1%}; auto-applied with a wrong value: {wrong_auto} "
              f"({wrong_auto / n:.2%})")
        print(f"  reading time: mean {sec / n:.3f} s/page on one core; {ppm:.0f} pages/min on {args.workers} workers")
        if fs:
            print(f"  retyped forms: recognised {fkind:.0%}, right member proposed {fmatch:.0%}")
        probs: dict = {}
        for r in rs:
            for p in r["problems"]:
                probs[p] = probs.get(p, 0) + 1
        print(f"  problems: {probs}")
        lines.append({"level": level, "identification_rate": round(ident, 4),
                      "tickbox_accuracy": round(box_ok / box_n, 5), "wrong_applied_rate": round(wrong_auto / n, 4),
                      "auto_applied_share": round(auto / n, 4), "pages_per_min": round(ppm, 1),
                      "foreign_member_match_rate": round(fmatch, 4) if fmatch is not None else None})
    print()
    for ln in lines:
        print(json.dumps(ln))
    return 0


if __name__ == "__main__":
    sys.exit(main())
