"""The import of a 2,000-row list, end to end, on this machine (goal: under 10 s).

    python bench/import_2000.py [--n 2000] [--layout two_row_gender_split] [--database-url URL]

Builds the list with tests/support/member_lists.py (a hard layout: two-row header, dates split by
gender, number row, signature block, cards without the dot, phones with dots), then times, on a
fresh registry (SQLite by default):
* upload -> mapping proposal -> preview (parse + plan + store the batch),
* the secretary's mapping step sent back (parse + plan again),
* confirm -> the job writing every member, organisation and audit entry in one transaction.
The last line is JSON with the wall-clock seconds of each step, the total, and the CPU seconds of
this process (on a shared, loaded machine the CPU time is the better estimate of an idle run).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import create_app, db, importing, migrate  # noqa: E402
from service.jobs.inprocess import run_pending  # noqa: E402
from service.models import Member, User  # noqa: E402
from tests.support.member_lists import HELD_OUT, TUNING, people, render  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--layout", default="two_row_gender_split")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    layout = next(lay for lay in TUNING + HELD_OUT if lay.name == args.layout)
    data = render(layout, people(args.n, seed=2000))
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/b.sqlite3",
                          "STORAGE_DIR": f"{tmp}/storage", "INSTANCE_DIR": f"{tmp}/instance"})
        with app.app_context():
            migrate.upgrade()
            sess = db.session()
            admin = User(username="bench-import", full_name="Bench", role="admin", password_hash="x")
            sess.add(admin)
            sess.commit()
            c0 = time.process_time()
            t0 = time.perf_counter()
            batch = importing.preview_upload(sess, admin, data, f"{layout.name}.xlsx")
            t1 = time.perf_counter()
            batch = importing.remap(sess, admin, batch, batch.preview["mapping"])
            t2 = time.perf_counter()
            assert batch.status == "previewed", batch.preview["summary"]
            importing.confirm(sess, admin, batch)
            run_pending()
            t3 = time.perf_counter()
            c3 = time.process_time()
            sess.expire_all()
            count = sess.query(Member).count()
            assert count == args.n, count
            db.engine().dispose()
    out = {"rows": args.n, "layout": layout.name, "file_kb": round(len(data) / 1024),
           "upload_preview_s": round(t1 - t0, 2), "mapping_step_s": round(t2 - t1, 2),
           "confirm_write_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2),
           "cpu_s": round(c3 - c0, 2), "load_avg_1min": round(os.getloadavg()[0], 1)}
    print(f"{args.n} rows ({layout.name}): preview {out['upload_preview_s']} s, mapping step "
          f"{out['mapping_step_s']} s, write {out['confirm_write_s']} s, total {out['total_s']} s "
          f"(CPU {out['cpu_s']} s; load average {out['load_avg_1min']} on {os.cpu_count()} cores)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
