"""Returned scanned forms: intake, reading (through ocr/), review and applying to the records.

The service never parses images itself: every page goes through ``ocr.read_page`` and
``ocr.pdfinput``; this package decides what to apply and what waits for a person.
"""


def register_jobs() -> None:
    """Declare this feature's job kinds: the scan batch job (``pipeline``), and what each job is (``job_titles``)."""
    from . import pipeline, job_titles  # noqa: F401
