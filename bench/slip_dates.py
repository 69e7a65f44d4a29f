"""Benchmark of reading the date written on returned receipt slips (synthetic hands).

    python bench/slip_dates.py --family heldout --pages 120     # the figures to report
    python bench/slip_dates.py --family tune --pages 120        # the set the thresholds were chosen on

Renders the introduction letter (the active version with comb boxes) once through docgen +
LibreOffice (cached), then per page writes a date in the slip's boxes with a synthetic hand
(tests/support/slip_dates.py: ``tune`` = DejaVu fonts + stroke model A, seeds from 0;
``heldout`` = Liberation fonts + stroke model B, seeds from 100000), scans it
(tests/support/hand_fill.py: light / medium / heavy) or photographs it (phone), reads it with
``ocr.read_page`` and decides like the service (``service.scans.policy.slip_date_decision``:
confident and plausible -> applied by itself, else review), i.e. as with NOICUTRU_SLIP_DATE_AUTO=1;
with the default (0) every slip goes to review with the date pre-filled, so nothing is applied wrong
and "applied right" + "proposal right" is the share pre-filled right.  One page in ten carries no date.

Prints per level: applied right, applied WRONG (must be 0), sent to review (with the proposal
right / wrong / none), blank slips sent to review, and the seconds per page; then one JSON line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ISSUED = dt.date(2026, 1, 5)  # the sample letter's issue date
TODAY = dt.date(2026, 12, 31)  # every written date is before it


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=("tune", "heldout"), default="heldout")
    ap.add_argument("--pages", type=int, default=120)
    ap.add_argument("--levels", default="light,medium,heavy,phone")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--seed-base", type=int, default=None,
                    help="first seed (default: 0 for tune, 100000 for heldout; a fresh held-out range: 200000)")
    args = ap.parse_args(argv)

    from docgen import samples
    from ocr import read_page
    from service.scans.policy import slip_date_decision
    from tests.support import hand_fill, slip_dates as sd, synthetic_sheets as syn

    key = samples.MARK_KEY_FOR_TESTS
    src = sd.render_slip_source(mark_key=key)
    sheet_layouts = syn.layouts_of(syn.render_sources(syn.sample_records(1), mark_key=key))
    levels = args.levels.split(",")
    base = args.seed_base if args.seed_base is not None else (0 if args.family == "tune" else 100000)
    rows = {lv: {"pages": 0, "applied_right": 0, "applied_wrong": 0, "review": 0, "review_proposal_right": 0,
                 "review_proposal_wrong": 0, "review_no_proposal": 0, "blank_pages": 0, "blank_to_review": 0,
                 "seconds": 0.0} for lv in levels}
    for k in range(args.pages):
        seed = base + k
        level = levels[k % len(levels)]
        date = None if k % 10 == 9 else sd.random_date(seed)
        hand = sd.hand_for(args.family, seed)
        img = sd.write_date(src, date, hand, seed)
        page = hand_fill.photograph(img, seed, turn=0)[0] if level == "phone" else \
            hand_fill.scan(img, level, seed, src_dpi=sd.DPI)[0]
        t0 = time.perf_counter()
        reading = read_page(page, layouts=sheet_layouts, hmac_key=key, slip_layouts=[src.layout],
                            want_images=False).to_dict(include_images=False)
        applied, _probs = slip_date_decision(reading, ISSUED, TODAY)
        r = rows[level]
        r["seconds"] += time.perf_counter() - t0
        r["pages"] += 1
        proposal = next((f["value"] for f in reading["fields"] if f["name"] == "received_on"), None)
        if date is None:
            r["blank_pages"] += 1
            r["blank_to_review"] += applied is None
            if applied is not None:
                r["applied_wrong"] += 1
        elif applied is not None:
            r["applied_right" if applied == date else "applied_wrong"] += 1
        else:
            r["review"] += 1
            r["review_proposal_right" if proposal == date.isoformat() else
              "review_no_proposal" if proposal is None else "review_proposal_wrong"] += 1
        if args.verbose or (applied is not None and applied != date):
            digits = next((f["value"] for f in reading["fields"] if f["name"] == "received_on_digits"), None)
            conf = next((f["confidence"] for f in reading["fields"] if f["name"] == "received_on"), None)
            print(f"seed {seed} {level} {hand.kind} {hand.font and Path(hand.font).name} written {date} "
                  f"read {digits} ({conf}) applied {applied} {[p['code'] for p in reading['problems']]}")
    total = {k: sum(r[k] for r in rows.values()) for k in rows[levels[0]]}
    print(f"family {args.family} (seeds from {base}), {args.pages} pages, load average {os.getloadavg()[0]:.1f}")
    print(f"{'level':8} {'pages':>5} {'right':>6} {'WRONG':>6} {'review':>7} (prop. right/wrong/none) "
          f"{'blank->review':>14} {'s/page':>7}")
    for lv, r in list(rows.items()) + [("all", total)]:
        dated = r["pages"] - r["blank_pages"]
        print(f"{lv:8} {r['pages']:5d} {r['applied_right']:6d} {r['applied_wrong']:6d} {r['review']:7d} "
              f"({r['review_proposal_right']}/{r['review_proposal_wrong']}/{r['review_no_proposal']})"
              f"{'':14} {r['blank_to_review']:3d}/{r['blank_pages']:<3d} {r['seconds'] / max(1, r['pages']):7.2f}"
              f"   applied right {r['applied_right'] / max(1, dated):.0%} of dated slips")
    print(json.dumps({"family": args.family, "pages": args.pages, **{k: round(v, 2) for k, v in total.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
