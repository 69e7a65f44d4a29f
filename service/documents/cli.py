"""Command ``generate``: a bulk mail-merge of letters or sheets into a ZIP file."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import db
from ..errors import ServiceError
from ..jobs.cli import run_and_report
from ..users.cli import user_named


@click.command("generate")
@click.option("--kind", type=click.Choice(["evaluation_sheet", "introduction_letter"]), default="evaluation_sheet")
@click.option("--year", type=int, required=True)
@click.option("--workplace-org", "workplace_org_id", type=int)
@click.option("--cell", "residence_cell_id", type=int)
@click.option("--ward", "ward_id", type=int)
@click.option("--outputs", default="zip,combined", help="Any of zip, combined, pdf, cell_bundles (comma separated).")
@click.option("--as-user", "username", required=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True, help="Where to write the ZIP.")
@with_appcontext
def generate_cmd(kind, year, workplace_org_id, residence_cell_id, ward_id, outputs, username, out_path):
    """Bulk mail-merge of letters or sheets (runs the job here) into a ZIP file."""
    from .. import storage
    from ..models import StoredFile
    from . import bulk
    sess = db.session()
    selection = {k: v for k, v in (("workplace_org_id", workplace_org_id), ("residence_cell_id", residence_cell_id),
                                   ("ward_id", ward_id)) if v}
    try:
        job = bulk.start(sess, user_named(sess, username), kind, year, selection, outputs.split(","))
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    job = run_and_report(sess, job)
    Path(out_path).write_bytes(storage.read(sess.get(StoredFile, job.result_file_id)))
    click.echo(f"Đã tạo {job.result['made']} văn bản, lỗi {job.result['failed']}: {out_path}")
    for failure in job.result.get("failures", []):
        click.echo(f"  - {failure['message']}")


COMMANDS = [generate_cmd]
