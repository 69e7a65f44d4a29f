"""Command ``import``: preview a member workbook, then apply it."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from .. import db
from ..errors import ServiceError
from ..jobs.cli import run_and_report
from ..users.cli import user_named


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "username", required=True, help="The user the import is recorded for.")
@click.option("--yes", is_flag=True, help="Apply without asking when the preview has no rejected row.")
@with_appcontext
def import_cmd(path, username, yes):
    """Import a member workbook: preview, then apply (as a job run here)."""
    from .. import importing
    sess = db.session()
    user = user_named(sess, username)
    try:
        batch = importing.preview_upload(sess, user, Path(path).read_bytes(), Path(path).name)
    except ServiceError as err:
        raise click.ClickException(f"{err.code}: {err.message}")
    s, p = batch.preview["summary"], batch.preview
    click.echo(f"Thêm mới {s['create']}, cập nhật {s['update']}, không đổi {s['unchanged']}, "
               f"có thể trùng {s.get('duplicate', 0)}, bị từ chối {s['rejected']}.")
    labels = p.get("field_labels", {})
    for c in p.get("all_columns", []):
        click.echo(f"  Cột {c['letter']} «{c['header']}» → {labels.get(c['field'], 'bỏ qua') if c['field'] else 'bỏ qua'}")
    for c in p.get("unmapped_columns", []):
        click.echo(f"  ! Cột {c['letter']} «{c['header']}» có {c['values']} dòng giá trị nhưng bị bỏ qua.")
    for row in batch.preview["rows"]:
        for e in row.get("errors") or []:
            click.echo(f"  - {e['message']}")
        if row.get("duplicate_of"):
            d = row["duplicate_of"]
            where = f"dòng {d['row']} trong tệp: " if d.get("in_file") else ""
            click.echo(f"  ? Dòng {row['row']}: có thể trùng với {where}{d['full_name']} (số thẻ {d['card_number']}), "
                       "không nhập.")
    if batch.status != "previewed":
        raise click.ClickException("Tệp có dòng lỗi: không có dữ liệu nào được ghi.")
    if not yes and not click.confirm("Nhập dữ liệu?"):
        return
    job = run_and_report(sess, importing.confirm(sess, user, batch))
    click.echo(f"Xong: {job.result}")


COMMANDS = [import_cmd]
