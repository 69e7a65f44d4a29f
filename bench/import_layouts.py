"""How the Excel import does on generated member lists, layout by layout and field by field.

    python bench/import_layouts.py [--set tuning|held_out|both] [--n 300]

Each layout of tests/support/member_lists.py is imported into a fresh SQLite registry (as an
administrator, nothing else in it); the registry is then compared with the people in the list.
The held-out layouts were never used while developing the importer: their figure is the honest
one. The last line is JSON: per set, rows right / rows, fields right / fields.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import create_app, db, migrate  # noqa: E402
from service.models import User  # noqa: E402
from tests.support.layout_check import compare, import_layout  # noqa: E402
from tests.support.member_lists import HELD_OUT, TUNING, people  # noqa: E402


def run_layout(layout, persons) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp}/b.sqlite3",
                          "STORAGE_DIR": f"{tmp}/storage", "INSTANCE_DIR": f"{tmp}/instance"})
        with app.app_context():
            migrate.upgrade()
            sess = db.session()
            admin = User(username="bench", full_name="Bench", role="admin", password_hash="x")
            sess.add(admin)
            sess.commit()
            try:
                preview = import_layout(sess, admin, layout, persons)
            except Exception as exc:  # a file-level refusal counts as nothing imported
                preview = {"summary": {"rejected": len(persons)}, "error": str(exc)}
            score = compare(sess, layout, persons)
            db.engine().dispose()
    return preview, score


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="both", choices=["tuning", "held_out", "both"])
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    persons = people(args.n, seed=77)
    sets = {"tuning": TUNING, "held_out": HELD_OUT}
    if args.set != "both":
        sets = {args.set: sets[args.set]}
    totals = {}
    for set_name, layouts in sets.items():
        f_ok = f_n = 0
        files_clean = 0
        for layout in layouts:
            preview, score = run_layout(layout, persons)
            ok = sum(s[0] for s in score.values())
            n = sum(s[1] for s in score.values())
            f_ok, f_n = f_ok + ok, f_n + n
            rejected = preview["summary"].get("rejected", 0)
            files_clean += int(rejected == 0 and ok == n)
            wrong = {f: f"{a}/{b}" for f, (a, b) in score.items() if a != b}
            print(f"[{set_name}] {layout.name}: rejected rows {rejected}, fields right {ok}/{n}"
                  + (f", wrong: {wrong}" if wrong else "") + (f", error: {preview['error']}" if "error" in preview else ""))
        totals[set_name] = {"layouts": len(layouts), "layouts_all_right": files_clean,
                            "fields_right": f_ok, "fields": f_n}
    print(json.dumps(totals, ensure_ascii=False))


if __name__ == "__main__":
    main()
