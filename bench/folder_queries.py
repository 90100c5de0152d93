"""SQL queries per folder page for a citizen with 10 cases and with 1,000.

The folder loads each page's cases with their registry entry, definition and timeline in
a fixed number of queries; if a page's count grows with the citizen's cases, something
loads per case (an N+1). Prints a table and exits 1 if any count changed between sizes.
Run with ``make bench`` (or ``.venv/bin/python bench/folder_queries.py``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bench.query_counts import counting, report  # noqa: E402
from identity.models import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from procedures import applications  # noqa: E402
from procedures.models import Application, TimelineEvent  # noqa: E402
from tests.conftest import make_test_app  # noqa: E402

SIZES = (10, 1_000)


def add_cases(app: object, reference: str, count: int) -> None:
    """``count - 4`` more submitted cases (the busy history has four), each with an event."""
    with app.test_request_context("/es/"):  # type: ignore[attr-defined]
        model = db.session.scalar(select(Application).where(Application.reference == reference))
        now = utcnow()
        rows = [
            {
                "reference": applications.new_reference(),
                "account_id": model.account_id,
                "procedure_slug": model.procedure_slug,
                "snapshot_id": model.snapshot_id,
                "status": "in_review",
                "language": "es",
                "answers_encrypted": model.answers_encrypted,
                "provenance": {},
                "submitted_at": now,
                "due_at": model.due_at,
            }
            for _ in range(count - 4)
        ]
        for start in range(0, len(rows), 500):
            db.session.execute(insert(Application), rows[start : start + 500])
        ids = db.session.scalars(
            select(Application.id).where(Application.account_id == model.account_id)
        ).all()
        db.session.execute(
            insert(TimelineEvent),
            [
                {"application_id": i, "at": now, "kind": "state_changed", "actor": "staff"}
                for i in ids
            ],
        )
        db.session.commit()


def measure(count: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        app = make_test_app(f"sqlite:///{work_path / 'bench.sqlite3'}", work_path / "instance")
        with app.app_context():
            upgrade()
        client = app.test_client()
        case_url = client.get(
            "/es/_test/state/folder?endpoint=folder.case&reference=waiting"
        ).headers["Location"]
        reference = case_url.rstrip("/").split("/")[-1]
        add_cases(app, reference, count)
        pages = {
            "overview": "/es/folder/",
            "applications": "/es/folder/cases",
            "one application": case_url,
            "answer a request": f"{case_url}/answer",
            "documents": "/es/folder/documents",
            "your data": "/es/folder/my-data",
            "who used your data": "/es/folder/data-use",
            "notifications": "/es/folder/notifications",
        }
        counts = {}
        for name, url in pages.items():
            client.get(url)
            with counting(app) as statements:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
            counts[name] = len(statements)
        counts["(cases)"] = count
        return counts


def main() -> int:
    return report(
        "SQL queries per folder page",
        [measure(count) for count in SIZES],
        "GROWS WITH THE CASES",
        "Every folder page makes the same number of queries with 10 cases and with 1,000.",
    )


if __name__ == "__main__":
    raise SystemExit(main())
