"""Reading scanned evaluation sheets (phiếu nhận xét): a plain library.

Knows nothing of Flask or the database.  Main entry points:

* :func:`read_page` (image -> :class:`PageReading`)
* :func:`build_layout` (form definition + rendered blank sheet PDF -> :class:`Layout`)
* :func:`classify_box` (crop of one tick box -> state, confidence)
* :mod:`ocr.pdfinput` (uploaded bytes -> page images, with stable error codes)
* (synthetic filled and degraded sheets for tests and the benchmark: tests/support/synthetic_sheets.py)
"""
from .boxes import classify_box, decide_item
from .layout import Layout, LayoutError, build_layout
from .reader import read_page
from .result import CONFIDENT, FieldReading, PageReading

__all__ = ["read_page", "build_layout", "Layout", "LayoutError", "classify_box", "decide_item",
           "PageReading", "FieldReading", "CONFIDENT"]
