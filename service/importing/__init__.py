"""Importing members from Excel: upload -> mapping -> preview -> confirm -> background job (-> undo).

- ``headers``: which field a column holds (aliases, similarity, values)
- ``workbook``: bytes + mapping -> parsed rows (pure, no database)
- ``mapping``: mappings saved per organisation
- ``plan``: parsed rows + database -> one action per row (reads only)
- ``readiness``: which documents each member can get after the import
- ``apply``: the public entry points and the "import_members" job (writes in one transaction)
- ``undo``: rolling a confirmed import back as one unit
"""
from .apply import build_plan, confirm, import_members, preview_upload, remap, set_places  # noqa: F401  (registers the job)
from .headers import FIELD_LABELS, match_header  # noqa: F401
from .undo import undo_import  # noqa: F401
from .workbook import parse_workbook  # noqa: F401



def register_jobs() -> None:
    """The "import_members" job is declared in ``apply`` (already imported above)."""


__all__ = ["preview_upload", "remap", "set_places", "confirm", "import_members", "undo_import", "build_plan", "parse_workbook",
           "match_header", "FIELD_LABELS"]
