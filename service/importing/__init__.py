"""Importing members from Excel: upload -> preview -> confirm -> background job.

- ``workbook``: bytes -> parsed rows (pure, no database)
- ``plan``: parsed rows + database -> one action per row (reads only)
- ``apply``: the public entry points and the "import_members" job (writes in one transaction)
"""
from .apply import build_plan, confirm, import_members, preview_upload  # noqa: F401  (registers the job)
from .workbook import FIELD_LABELS, match_header, parse_workbook  # noqa: F401

__all__ = ["preview_upload", "confirm", "import_members", "build_plan", "parse_workbook", "match_header",
           "FIELD_LABELS"]
