"""What a fault run did, and each guarantee checked against it, printed.

Times are seconds from the start of the load. An error is a request that got something
other than what a browser goes on with (an error status, a connection refused or cut, a
time-out); it is *inside* a fault's window when the request overlapped it, allowing
:data:`GRACE` after the window's end for requests the fault held up.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bench.support.integrity import Stored, registry_gaps
from bench.support.journeys import Request
from bench.support.mailbox import Arrival
from bench.support.outages import Window
from bench.support.tables import table

if TYPE_CHECKING:
    from bench.faults import Run

#: After a fault's window, how long a request it held up may still fail.
GRACE = 1.0
#: After each fault, the portal must say it is ready, and a citizen get a receipt, within:
READY_WITHIN = 10.0
RECEIPT_WITHIN = 30.0
#: A duplicate is the ambiguous case SMTP allows (the server took the message and the
#: connection died before its "250 OK" reached the sender) only if the first copy arrived
#: this close before the server went down; it then carries the same Message-ID.
AMBIGUOUS = 1.0
ACCOUNT_EMAIL_KINDS = {
    "sign-up": "identity.verify_email",
    "password reset": "identity.reset_password",
}


@dataclass
class Observed:
    run: Run
    stored: Stored
    arrivals: list[Arrival]
    procedure: str


@dataclass
class Check:
    guarantee: str
    passed: bool
    lines: list[str] = field(default_factory=list)


def report(o: Observed) -> bool:
    """Print the run and the checks; True if a guarantee was broken."""
    at = _clock(o)
    _print_timeline(o, at)
    _print_requests(o, at)
    checks = [
        receipts_stored(o),
        nothing_half_written(o),
        registry_whole(o),
        errors_inside_windows(o, at),
        recovered(o, at),
        every_application_finished(o),
        emails_once(o, at),
        receipt_emails(o),
        account_emails(o),
    ]
    print("\nGuarantees:\n")
    for check in checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.guarantee}")
        for line in check.lines:
            print(f"          {line}")
    for line in o.run.skipped:
        print(f"  SKIP  {line}")
    _print_figures(o, at)
    broken = sum(1 for check in checks if not check.passed)
    print(f"\n{'Every guarantee held.' if not broken else f'{broken} guarantee(s) broken.'}")
    return bool(broken)


def _clock(o: Observed) -> Callable[[float], str]:
    return lambda moment: f"+{moment - o.run.started:.1f} s"


def _monotonic(o: Observed, moment: datetime) -> float:
    """A database time (UTC) on the run's monotonic clock."""
    return moment.timestamp() - o.run.started_wall + o.run.started


def _windows(o: Observed) -> list[Window]:
    return o.run.windows + ([o.run.smtp_window] if o.run.smtp_window else [])


def _overlaps(request: Request, window: Window) -> bool:
    return request.started <= window.end + GRACE and request.ended >= window.start


def _receipts(o: Observed) -> list[Any]:
    return [s for s in o.run.journal.submissions if s.number]


# What happened ----------------------------------------------------------------------------


def _print_timeline(o: Observed, at: Callable[[float], str]) -> None:
    journal = o.run.journal
    clients = {r.client for r in journal.requests if r.client.startswith("applicant")}
    print("What was done:\n")
    print(
        f"  {at(o.run.started)}  load started: {len(clients)} citizens submitting at once,"
        " sign-ups and password resets, /readyz polled"
    )
    for window in _windows(o):
        print(f"  {at(window.start)}  {window.name}: {window.detail}; over at {at(window.end)}")
    print(f"  {at(o.run.load_stopped)}  load stopped (applications in hand finished first)")
    if o.run.drained is not None:
        print(f"  {at(o.run.drained)}  the outbox held nothing unsent")
    else:
        print("  the outbox still held unsent emails when the benchmark stopped waiting")


def _print_requests(o: Observed, at: Callable[[float], str]) -> None:
    requests = o.run.journal.requests
    print("\nRequests, by when they ran:\n")
    rows = []
    for window in _windows(o):
        inside = [r for r in requests if _overlaps(r, window)]
        rows.append(_row(f"{window.name} ({at(window.start)} to {at(window.end)})", inside))
    outside = [r for r in requests if not any(_overlaps(r, w) for w in _windows(o))]
    rows.append(_row("outside every fault", outside))
    rows.append(_row("all", requests))
    print(table(["when", "requests", "errors", "p50", "p95"], rows))
    for window in _windows(o):
        errors = Counter(
            f"{r.name}: {r.error}{_answer(r)}" for r in requests if r.error and _overlaps(r, window)
        )
        if errors:
            print(f"\n  Errors during “{window.name}”:")
            for what, count in errors.most_common():
                print(f"    {count} x {what}")


def _answer(request: Request) -> str:
    if request.status is None:
        return ""
    if not request.portal_page:
        return " (not the portal's page)"
    return " (the portal's error page)" + ("" if request.request_id else ", without its headers")


def _row(name: str, requests: list[Request]) -> list[object]:
    times = sorted((r.ended - r.started) * 1000 for r in requests)
    errors = sum(1 for r in requests if r.error)
    if not times:
        return [name, 0, 0, "", ""]
    return [
        name,
        len(times),
        errors,
        f"{statistics.median(times):.0f} ms",
        f"{times[int(len(times) * 0.95)]:.0f} ms",
    ]


# Submissions ----------------------------------------------------------------------------


def receipts_stored(o: Observed) -> Check:
    stored = {a.reference: a for a in o.stored.applications}
    problems = []
    owners: dict[str, set[str]] = defaultdict(set)
    for s in _receipts(o):
        owners[s.number].add(s.reference)
        found = stored.get(s.reference)
        if found is None:
            problems.append(f"{s.reference} ({s.number}): not in the database")
        elif found.status == "draft" or found.number != s.number:
            problems.append(
                f"{s.reference}: shown {s.number}, stored {found.status} {found.number}"
            )
        if len(s.numbers) > 1:
            problems.append(f"{s.reference}: shown several numbers {sorted(s.numbers)}")
    problems += [f"{n} shown for {sorted(refs)}" for n, refs in owners.items() if len(refs) > 1]
    return Check(
        f"every receipt a citizen saw is one sent application in the database"
        f" ({len(_receipts(o))} receipts)",
        not problems,
        problems[:10],
    )


def nothing_half_written(o: Observed) -> Check:
    half = [
        f"{a.reference} ({a.procedure}) {a.status}: entry, event, receipt, emailed event"
        f" = {a.parts}, receipt emails {o.stored.receipt_emails(a.number)}"
        for a in o.stored.applications
        if not a.whole(o.stored.receipt_emails(a.number))
    ]
    sent = sum(1 for a in o.stored.applications if a.status != "draft")
    drafts = len(o.stored.applications) - sent
    return Check(
        f"no application half-written ({sent} sent, each with its registry entry, timeline"
        f" event, receipt document and receipt email; {drafts} drafts with none)",
        not half,
        half[:10],
    )


def registry_whole(o: Observed) -> Check:
    problems = registry_gaps(o.stored.registry)
    numbers = sorted(number for _y, _s, number in o.stored.registry)
    span = f"{numbers[0]} to {numbers[-1]}" if numbers else "none"
    return Check(
        f"registry numbers unique and without gaps ({len(numbers)}: {span})",
        not problems,
        problems,
    )


def every_application_finished(o: Observed) -> Check:
    submissions = o.run.journal.submissions
    unfinished = [s for s in submissions if not s.number]
    retried = [s for s in submissions if s.failures]
    unanswered = [s for s in submissions if s.submit_unanswered]
    lines = [
        f"{len(retried)} needed the citizen to go back after a failed step; {len(unanswered)}"
        " had a submit that got no answer, and the citizen found it sent or sent it again"
    ]
    reasons = Counter(reason for s in submissions for reason in s.failures)
    lines += [f"{count} x failed step: {reason}" for reason, count in reasons.most_common(8)]
    lines += [f"given up: {s.email} {s.reference or '(not started)'}" for s in unfinished[:10]]
    not_seen = sorted(
        a.reference
        for a in o.stored.applications
        if a.procedure == o.procedure and a.status != "draft"
    )
    seen = {s.reference for s in _receipts(o)}
    unseen = [ref for ref in not_seen if ref not in seen]
    lines += [f"sent, but its receipt never shown: {ref}" for ref in unseen[:10]]
    return Check(
        f"every application a citizen began was sent and its receipt shown ({len(submissions)})",
        not unfinished and not unseen,
        lines,
    )


# Errors and recovery --------------------------------------------------------------------


def errors_inside_windows(o: Observed, at: Callable[[float], str]) -> Check:
    # The mail server being down must cost no request anything: no request talks to it.
    allowed = o.run.windows
    errors = [r for r in o.run.journal.requests if r.error]
    outside = [r for r in errors if not any(_overlaps(r, w) for w in allowed)]
    lines = [
        f"{at(r.started)} to {at(r.ended)} {r.client} {r.name}: {r.error}" for r in outside[:10]
    ]
    return Check(
        f"errors only while a worker or the database was down ({len(errors)} errors,"
        f" {len(outside)} outside; the SMTP outage allows none)",
        not outside,
        lines,
    )


def recovered(o: Observed, at: Callable[[float], str]) -> Check:
    readings = o.run.journal.readiness
    receipts = sorted(s.receipt_at for s in _receipts(o))
    lines, passed = [], True
    for window in _windows(o):
        down = [t for t, status in readings if window.start <= t <= window.end and status != 200]
        ready = next((t for t, status in readings if t > window.end and status == 200), None)
        receipt = next((t for t in receipts if t > window.end), None)
        ok = (
            ready is not None
            and ready - window.end <= READY_WITHIN
            and receipt is not None
            and receipt - window.end <= RECEIPT_WITHIN
        )
        passed &= ok
        lines.append(
            f"{window.name}: /readyz not 200 {len(down)} times during it;"
            f" 200 {_after(ready, window.end)} and a receipt {_after(receipt, window.end)}"
            " after it ended"
        )
    last = readings[-1][1] if readings else None
    passed &= last == 200
    lines.append(f"last /readyz: {last}")
    return Check("the site recovered by itself after each fault", passed, lines)


def _after(moment: float | None, end: float) -> str:
    return f"{moment - end:.1f} s" if moment is not None else "never"


# Emails ---------------------------------------------------------------------------------


def emails_once(o: Observed, at: Callable[[float], str]) -> Check:
    by_id: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in o.arrivals:
        by_id[arrival.message_id].append(arrival)
    rows = {e.message_id: e for e in o.stored.emails}
    down_at = o.run.smtp_window.start if o.run.smtp_window else None
    problems, ambiguous = [], []
    for email in o.stored.emails:
        copies = by_id.get(email.message_id, [])
        if not copies:
            problems.append(f"lost: {email.kind} ({email.status}, {email.attempts} attempts)")
        elif len(copies) > 1:
            first = copies[0].at
            if down_at is not None and down_at - AMBIGUOUS <= first <= down_at:
                ambiguous.append(email)
            else:
                problems.append(f"sent {len(copies)} times: {email.kind}, first at {at(first)}")
        if copies and any(email.recipient not in c.recipients for c in copies):
            problems.append(f"{email.kind}: delivered to someone else")
        if email.status != "sent":
            problems.append(f"{email.kind}: {email.status} after {email.attempts} attempts")
    unknown = [m for m in by_id if m not in rows]
    problems += [f"received, but not in the outbox: {m}" for m in unknown[:5]]
    lines = problems[:10]
    if ambiguous:
        lines.append(
            f"{len(ambiguous)} delivered twice with the same Message-ID: taken by the server as"
            " it went down, before its answer reached the worker (SMTP's ambiguous case)"
        )
    return Check(
        f"every email in the outbox reached the SMTP server exactly once ({len(rows)} emails,"
        f" {len(o.arrivals)} deliveries)",
        not problems,
        lines,
    )


def _to(o: Observed, address: str) -> list[Arrival]:
    return [a for a in o.arrivals if address in a.recipients]


def receipt_emails(o: Observed) -> Check:
    wrong = []
    for s in _receipts(o):
        count = sum(1 for a in _to(o, s.email) if s.number in a.subject)
        if count != 1:
            wrong.append(f"{s.number} to {s.email}: {count} emails")
    return Check(
        f"one receipt email per receipt shown, to its citizen, naming its number"
        f" ({len(_receipts(o))})",
        not wrong,
        wrong[:10],
    )


def account_emails(o: Observed) -> Check:
    kinds = {e.message_id: e.kind for e in o.stored.emails}
    wrong, accepted, unknown = [], 0, 0
    for action in o.run.journal.account_emails:
        kind = ACCOUNT_EMAIL_KINDS[action.action]
        count = sum(1 for a in _to(o, action.email) if kinds.get(a.message_id) == kind)
        if action.accepted:
            accepted += 1
            if count != 1:
                wrong.append(f"{action.action} for {action.email}: {count} emails")
        else:
            unknown += 1
            if count > 1:
                wrong.append(f"{action.action} for {action.email} (no answer): {count} emails")
    return Check(
        f"one email per accepted sign-up or password reset ({accepted} accepted; {unknown}"
        " got no answer, and at most one email each)",
        not wrong,
        wrong[:10],
    )


# Figures --------------------------------------------------------------------------------


def _print_figures(o: Observed, at: Callable[[float], str]) -> None:
    receipts = _receipts(o)
    load = o.run.load_stopped - o.run.started
    print("\nFigures:\n")
    print(
        f"  {len(receipts)} receipts in {load:.0f} s ({len(receipts) / load:.1f}/s),"
        f" {len(o.run.journal.requests)} requests ({len(o.run.journal.requests) / load:.0f}/s)"
    )
    kinds = Counter(e.kind for e in o.stored.emails)
    print("  emails by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    failed = sum(e.attempts for e in o.stored.emails) - len(o.stored.emails)
    print(f"  failed attempts the worker retried: {failed}")
    window = o.run.smtp_window
    if window is None:
        return
    first = {a.message_id: a.at for a in reversed(o.arrivals)}
    held = [
        (e, first[e.message_id])
        for e in o.stored.emails
        if e.message_id in first
        and first[e.message_id] >= window.end
        and _monotonic(o, e.created_at) < window.end
    ]
    if not held:
        return
    waits = sorted(arrived - max(_monotonic(o, e.created_at), window.start) for e, arrived in held)
    last = max(arrived for _e, arrived in held)
    retried = sum(1 for e, _arrived in held if e.attempts > 1)
    print(
        f"  {len(held)} emails were held up by the SMTP outage ({retried} of them after a"
        f" failed attempt, waiting out its backoff); the server came back at {at(window.end)}"
        f" and the last of them arrived {last - window.end:.0f} s later. Each waited (from"
        f" its writing, or the outage's start) {statistics.median(waits):.0f} s at the"
        f" median, {waits[-1]:.0f} s at most"
    )
