"""Official documents: template versions, numbering, introduction letters, evaluation sheets, bulk runs.

The rendering itself is docgen's (a plain library); this package supplies it with data from
the registry and records what was issued.
"""


def register_jobs() -> None:
    """Declare this feature's job kinds: the bulk mail-merge job (``bulk``), the per-cell packets (``packets``),
    and what each job is (``job_titles``)."""
    from . import bulk, job_titles, packets  # noqa: F401
