"""Our sheet whose corner marks are missing (cut off, covered): align by the QR alone."""
from __future__ import annotations

import time

from .result import PageReading, problem


def read_by_qr_only(bgr, gray, has_colour, lays, key, qr_hit, members_hint, t0, want_images):
    from .reader import _qr_problem_and_payload
    text, corners, orient = qr_hit
    payload, valid, probs = _qr_problem_and_payload(text, key)
    r = PageReading(kind="evaluation_sheet", qr=payload, qr_valid=valid, qr_text=text,
                    problems=probs + [problem("marks_missing")])
    if payload and payload.get("kind") == "introduction_letter":
        r.kind = "introduction_receipt"
    r.timings = {"total": time.perf_counter() - t0}
    return r
