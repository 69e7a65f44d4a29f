"""Background jobs: a database record per job, job functions in a registry, and runners.

- ``record``: job kinds, enqueue, notify, cancel, and the one way a job ends (``conclude``)
- ``items``: item jobs (one row per item, so several workers share a job)
- ``leases``: who holds a job or item, and whether that holder is gone
- ``inprocess``: the embedded runner (a thread of the web process) and ``run_pending``
- ``celery_runner``: the Celery runner (JOB_RUNNER=celery)
- ``views``, ``api``, ``cli``: pages, JSON routes and commands

Features declare their job kinds (``@job_function``/``@item_job``) in their own modules and
``create_app`` loads them (each feature's ``register_jobs``); this package imports no feature.
"""
from __future__ import annotations

import importlib

from flask import Flask


def init_app(app: Flask) -> None:
    """Load the extra job modules of the configuration and start the configured runner.

    Call after the features registered their job kinds.
    """
    for name in app.config.get("JOB_MODULES") or ():  # more job functions (plugins, tests)
        importlib.import_module(name)
    if app.config.get("JOB_RUNNER") == "celery":
        from .celery_runner import celery_init_app
        celery_init_app(app)
    elif app.config.get("START_WORKER") and app.config.get("JOB_RUNNER") == "inprocess":
        from .inprocess import start_worker
        start_worker(app)
