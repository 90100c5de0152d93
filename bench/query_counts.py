"""SQL queries per page as the catalogue and the applications grow.

A page whose query count grows with the data has an N+1 somewhere; the count must stay
flat from 14 procedures and no applications to ten times the procedures and thousands
of applications. Run with ``make bench`` (or ``.venv/bin/python bench/query_counts.py``);
it prints a table and exits 1 if any page's count changed between the sizes.

Each size runs on its own SQLite database, built through the real migrations, with the
shipped definitions copied (under new slugs) to make the larger catalogue.
"""

from __future__ import annotations

import platform
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from portal.extensions import db  # noqa: E402
from procedures import applications, catalogue  # noqa: E402
from procedures.definitions import DEFINITIONS_DIR, SHARED_FILES  # noqa: E402
from procedures.models import Application  # noqa: E402
from tests.conftest import make_test_app  # noqa: E402

SIZES = ((1, 0), (5, 1_000), (10, 5_000))  # (copies of the catalogue, applications)
SLUG_LINE = re.compile(r"^slug: (\S+)$", re.MULTILINE)


def definitions(copies: int, into: Path) -> Path:
    """The shipped definitions, plus ``copies - 1`` renamed copies of each procedure."""
    shutil.copytree(DEFINITIONS_DIR, into, dirs_exist_ok=True)
    for path in sorted(DEFINITIONS_DIR.glob("*.yaml")):
        if path.name in SHARED_FILES:
            continue
        source = path.read_text()
        slug = SLUG_LINE.search(source).group(1)  # type: ignore[union-attr]
        for n in range(2, copies + 1):
            copy = SLUG_LINE.sub(f"slug: {slug}-{n}", source, count=1)
            (into / f"{slug}-{n}.yaml").write_text(copy)
    return into


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fill_applications(app: Flask, count: int) -> None:
    """``count`` submitted-looking applications of other citizens, inserted in bulk."""
    from identity import accounts

    with app.test_request_context("/es/"):
        other = accounts.create_account("other@example.es", "una contraseña muy larga", "es")
        procedure = catalogue.get("change-of-address")
        draft = applications.start(other, procedure, "es")
        rows = [
            {
                "reference": secrets.token_hex(8).upper(),
                "account_id": other.id,
                "procedure_slug": procedure.slug,
                "snapshot_id": draft.snapshot_id,
                "status": "submitted",
                "language": "es",
                "answers_encrypted": draft.answers_encrypted,
                "provenance": {},
            }
            for _ in range(count)
        ]
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Application), rows[start : start + 1000])
        db.session.commit()


def measure(copies: int, count: int) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        app = make_test_app(
            f"sqlite:///{work_path / 'bench.sqlite3'}",
            work_path / "instance",
            PROCEDURES_DIR=str(definitions(copies, work_path / "definitions")),
        )
        with app.app_context():
            upgrade()
        fill_applications(app, count)
        client = app.test_client()
        signed_in = client.get(
            "/es/_test/state/draft?endpoint=applications.check&procedure=change-of-address"
        )
        check_url = signed_in.headers["Location"]
        reference = check_url.split("/")[3]
        pages = {
            "catalogue": "/es/procedures/",
            "search": "/es/procedures/?q=certificado",
            "topic": "/es/procedures/topics/housing",
            "procedure": "/es/procedures/change-of-address",
            "form page": f"/es/applications/{reference}/pages/new_address",
            "check answers": check_url,
            "appointment times": "/es/appointments/book/citizen-office/town-hall",
        }
        counts = {}
        for name, url in pages.items():
            client.get(url)  # warm: the search index is built on the first search
            with counting(app) as statements:
                response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code}")
            counts[name] = len(statements)
        with app.app_context():
            counts["(procedures)"] = len(catalogue.current())
        counts["(applications)"] = count
        return counts


def report(title: str, results: list[dict[str, int]], growing: str, steady: str) -> int:
    """Print one row per page and a column per size; 1 if any page's count changed."""
    machine = platform.processor() or platform.machine()
    print(f"# {title} — {platform.node()}, {machine}")
    print(f"# Python {platform.python_version()}, SQLite")
    names = list(results[0])
    width = max(len(name) for name in names)
    for name in names:
        print(f"{name:<{width}}  " + "  ".join(f"{r[name]:>8}" for r in results))
    changed = [
        name for name in names if not name.startswith("(") and len({r[name] for r in results}) != 1
    ]
    if changed:
        print(f"{growing}: {', '.join(changed)}")
        return 1
    print(steady)
    return 0


def main() -> int:
    return report(
        "SQL queries per page",
        [measure(copies, count) for copies, count in SIZES],
        "GROWS WITH THE DATA",
        "Every page makes the same number of queries at every size.",
    )


if __name__ == "__main__":
    raise SystemExit(main())
