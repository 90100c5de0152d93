"""What the database holds after a fault run, read with plain SQL (not through the portal's
models, so a mistake in them cannot hide one in the data).

A submission is whole when its application is no longer a draft and has exactly one of
each thing its transaction writes: the registry entry, the "submitted" timeline event,
the receipt document, the "receipt emailed" event and the receipt's email in the outbox.
A draft has none of them. Anything in between is half-written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

import psycopg

#: Per application: its procedure, its state and how many of each part it has.
APPLICATIONS = """
SELECT a.reference, a.procedure_slug, a.status, a.submitted_at, acc.email,
       (SELECT count(*) FROM registry_entries r WHERE r.application_id = a.id),
       (SELECT min(r.number) FROM registry_entries r WHERE r.application_id = a.id),
       (SELECT count(*) FROM timeline_events t
         WHERE t.application_id = a.id AND t.kind = 'submitted'),
       (SELECT count(*) FROM issued_documents d
         WHERE d.application_id = a.id AND d.kind = 'receipt'),
       (SELECT count(*) FROM timeline_events t
         WHERE t.application_id = a.id AND t.kind = 'receipt_emailed')
FROM applications a LEFT JOIN accounts acc ON acc.id = a.account_id
"""
REGISTRY = "SELECT year, sequence, number FROM registry_entries"
OUTBOX = """
SELECT message_id, kind, recipient, status, attempts, created_at, sent_at, claimed_until,
       content
FROM outbox_emails
"""


@dataclass(frozen=True)
class StoredApplication:
    reference: str
    procedure: str
    status: str
    submitted_at: datetime | None
    email: str
    entries: int
    number: str | None
    submitted_events: int
    receipts: int
    emailed_events: int

    @property
    def parts(self) -> tuple[int, int, int, int]:
        return (self.entries, self.submitted_events, self.receipts, self.emailed_events)

    def whole(self, receipt_emails: int) -> bool:
        """Sent with exactly one of everything, or a draft with nothing."""
        if self.status == "draft":
            return self.submitted_at is None and self.parts == (0, 0, 0, 0) and not receipt_emails
        return self.submitted_at is not None and self.parts == (1, 1, 1, 1) and receipt_emails == 1


@dataclass(frozen=True)
class StoredEmail:
    message_id: str
    kind: str
    recipient: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    claimed_until: datetime | None
    subject: str


@dataclass
class Stored:
    applications: list[StoredApplication]
    registry: list[tuple[int, int, str]]
    emails: list[StoredEmail]

    def receipt_emails(self, number: str | None) -> int:
        """Receipt emails in the outbox naming this registry number."""
        if not number:
            return 0
        return sum(
            1 for e in self.emails if e.kind == "application.submitted" and number in e.subject
        )


def _subject(content: bytes) -> str:
    headers = BytesHeaderParser(policy=default_policy).parsebytes(content)
    return str(headers.get("Subject", ""))


def read(database_url: str) -> Stored:
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        applications = [StoredApplication(*row) for row in connection.execute(APPLICATIONS)]
        registry = [tuple(row) for row in connection.execute(REGISTRY)]
        emails = [
            StoredEmail(*row[:8], subject=_subject(bytes(row[8])))
            for row in connection.execute(OUTBOX)
        ]
    return Stored(applications, registry, emails)  # type: ignore[arg-type]


def pending_emails(database_url: str) -> int:
    """Emails not yet sent (nor given up on)."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM outbox_emails WHERE status = 'pending'"
        ).fetchone()
    return int(row[0]) if row else 0


def registry_gaps(registry: list[tuple[int, int, str]]) -> list[str]:
    """Numbers missing from each year's sequence (a registry book has no gaps), and
    numbers given twice."""
    problems = []
    given = Counter(number for _year, _sequence, number in registry)
    twice = sorted(number for number, times in given.items() if times > 1)
    problems += [f"{number} given more than once" for number in twice]
    for year in sorted({year for year, _s, _n in registry}):
        sequences = sorted(s for y, s, _n in registry if y == year)
        missing = sorted(set(range(1, sequences[-1] + 1)) - set(sequences))
        if missing:
            problems.append(f"{year}: sequence numbers missing: {missing[:20]}")
        if len(sequences) != len(set(sequences)):
            problems.append(f"{year}: a sequence number given twice")
    return problems
