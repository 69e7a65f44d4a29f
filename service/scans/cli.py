"""Command ``scan``: read a stack of scanned returns and apply them."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import db
from ..errors import ServiceError
from ..jobs.cli import run_and_report
from ..users.cli import user_named


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "username", required=True)
@click.option("--no-auto", is_flag=True, help="Send every page to review, even confident ones.")
@with_appcontext
def scan_cmd(paths, username, no_auto):
    """Read a stack of scanned returns (runs the job here) and print what happened to each page."""
    from . import intake
    sess = db.session()
    try:
        batch = intake.start_batch(sess, user_named(sess, username), [(Path(p).name, Path(p).read_bytes()) for p in paths],
                                   auto_apply=not no_auto)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    for f in batch.files:
        if f.error:
            click.echo(f"  ! {f.error['message']}")
    from ..models import Job
    run_and_report(sess, sess.get(Job, batch.job_id))
    sess.refresh(batch)
    click.echo(f"Lô #{batch.id}: {batch.summary['pages']}")


COMMANDS = [scan_cmd]
