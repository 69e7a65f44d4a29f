"""Run in a separate process by the numbering test: issue letters for the given members."""
import sys

from service import create_app, db
from service.documents.letters import issue_introduction
from service.models import Member


def main() -> None:
    url, storage, ids = sys.argv[1], sys.argv[2], [int(i) for i in sys.argv[3:]]
    app = create_app({"DATABASE_URL": url, "STORAGE_DIR": storage})
    with app.app_context():
        for member_id in ids:
            with db.new_session() as sess:
                issue_introduction(sess, None, sess.get(Member, member_id))
        print("ok")


if __name__ == "__main__":
    main()
