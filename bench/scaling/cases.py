"""Applications and everything that hangs from them, for the scale benchmark: one SQL
statement per kind of row, each reading a table of per-case decisions (``bench_cases``)
drawn once with PostgreSQL's ``random()`` under a fixed seed, so the same size always
gives the same data.

The decisions follow what a municipal portal sees (see ``generate``): cases sent in the
last month are open, a few older ones too, the rest decided, closed or withdrawn. Each
case then gets what the portal would have written for it: the registry entry, the
timeline step by step (in the order the steps happen, as the portal reads a case's events
in id order), the citizen's notifications, the documents issued, who holds it, its unit
(complaints), the staff member's read of it, satisfaction answers and abandoned forms.
"""

from __future__ import annotations

from bench.scaling.shape import CASEWORKERS, HEAVY, LANGUAGES, YEARS, Shape
from bench.scaling.sql import Writer, code, csv, reference, scrambled


def applications(write: Writer, shape: Shape) -> None:
    """Applications and their registry entries, from one table of per-case decisions."""
    span = 365 * YEARS
    write.run("random seed", "SELECT setseed(0.2025)")
    write.run(
        "random draws",
        """
        CREATE TEMP TABLE bench_draws AS
        SELECT i AS id, random() AS who, random() AS whom, random() AS what, random() AS draft,
            random() AS age, random() AS state, random() AS speed, random() AS outcome,
            random() AS channel
        FROM generate_series(1, %(n)s) AS i
        """,
        {"n": shape.applications},
    )
    write.run(
        "cases decided",
        f"""
        CREATE TEMP TABLE bench_cases AS
        WITH drawn AS (
            SELECT d.id,
                CASE WHEN d.id <= {HEAVY} THEN 1
                     WHEN d.who < 0.7 THEN 2 + floor(d.whom * ({shape.citizens} - 1))::int
                     ELSE 2 + floor(d.whom * {shape.frequent})::int END AS account_id,
                p.slug, p.snapshot_id, p.workflow, p.months, p.agency, p.answers, p.titles,
                d.draft < 0.04 AS is_draft,
                CASE WHEN d.draft < 0.04 THEN d.age * 30 ELSE d.age * {span} END AS age_days,
                d.state, d.speed, d.outcome, d.channel
            FROM bench_draws AS d
            JOIN bench_procedures AS p ON d.what >= p.low AND d.what < p.high
        ), placed AS (
            SELECT *,
                CASE WHEN is_draft THEN 'draft'
                     WHEN age_days < 30 THEN CASE WHEN state < 0.4 THEN 'submitted'
                                                  WHEN state < 0.8 THEN 'in_review'
                                                  ELSE 'needs_information' END
                     WHEN age_days < 120 AND state < 0.12 THEN 'in_review'
                     WHEN age_days < 120 AND state < 0.16 THEN 'needs_information'
                     WHEN outcome < 0.03 THEN 'withdrawn'
                     WHEN outcome < 0.18 THEN 'closed'
                     WHEN workflow = 'complaints' THEN 'answered'
                     WHEN outcome < 0.30 THEN 'resolved_unfavourable'
                     ELSE 'resolved_favourable' END AS status,
                now() - age_days * interval '1 day' AS sent
            FROM drawn
        ), timed AS (
            SELECT *,
                status IN ('resolved_favourable', 'resolved_unfavourable', 'answered', 'closed')
                    AS decided,
                status = 'needs_information'
                    OR (status IN ('resolved_favourable', 'resolved_unfavourable', 'answered',
                                   'closed') AND mod(id, 5) = 0) AS asked
            FROM placed
        )
        SELECT t.*,
            CASE WHEN t.channel < 0.1 THEN 'counter' ELSE 'online' END AS channel_name,
            s.account_id AS staff_id,
            CASE WHEN is_draft THEN NULL ELSE sent END AS submitted_at,
            sent + least(1, age_days / 3) * interval '1 day' AS reviewed_at,
            sent + least(2, age_days / 2) * interval '1 day' AS asked_at,
            sent + 5 * interval '1 day' AS answered_at,
            sent + greatest(CASE WHEN asked THEN 7 ELSE 1 END,
                            least(age_days - 0.5, 1 + speed * months * 30 * 1.15))
                 * interval '1 day' AS decided_at,
            sent + least(age_days - 0.1, greatest(CASE WHEN asked THEN 7 ELSE 1 END,
                            least(age_days - 0.5, 1 + speed * months * 30 * 1.15)) + 10)
                 * interval '1 day' AS closed_at,
            CASE WHEN t.status = 'closed' AND t.workflow = 'complaints' THEN 'answered'
                 WHEN t.status = 'closed' THEN 'resolved_favourable'
                 ELSE t.status END AS decision
        FROM timed AS t
        JOIN bench_staff AS s ON s.agency = t.agency AND s.n >= 0
            AND mod(s.n, {CASEWORKERS}) = mod(t.id, {CASEWORKERS})
        """,  # noqa: S608 - our own constants
    )
    write.run("cases indexed", "CREATE INDEX ON bench_cases (id); ANALYZE bench_cases")
    languages = "ARRAY[" + ", ".join(f"'{lang}'" for lang in LANGUAGES) + "]"
    bands = "ARRAY['18-29', '30-44', '30-44', '45-64', '45-64', '65+', '0-17']"
    write.run(
        "applications",
        f"""
        INSERT INTO applications (id, reference, account_id, procedure_slug, snapshot_id, status,
            language, answers_encrypted, provenance, created_at, updated_at, expires_at,
            submitted_at, due_at, clock_paused_at, channel, assisted_by_account_id, age_band,
            district)
        SELECT id, {reference("id")}, account_id, slug, snapshot_id, status,
            ({languages})[1 + mod(account_id, {len(LANGUAGES)})], answers, '{{}}',
            sent - interval '25 minutes',
            CASE WHEN status = 'closed' THEN closed_at
                 WHEN decided THEN decided_at
                 WHEN status = 'withdrawn' THEN asked_at
                 WHEN asked THEN asked_at
                 WHEN status = 'in_review' THEN reviewed_at
                 ELSE sent END,
            CASE WHEN is_draft THEN sent + interval '30 days' END,
            submitted_at,
            CASE WHEN NOT is_draft THEN sent + months * interval '1 month'
                 + CASE WHEN asked AND decided THEN interval '3 days' ELSE interval '0' END END,
            CASE WHEN status = 'needs_information' THEN asked_at END,
            channel_name,
            CASE WHEN channel_name = 'counter' THEN staff_id END,
            CASE WHEN is_draft THEN NULL ELSE ({bands})[1 + mod(account_id, 7)] END,
            CASE WHEN is_draft THEN NULL ELSE '280' || lpad((mod(account_id, 20) + 1)::text, 2, '0')
            END
        FROM bench_cases ORDER BY id
        """,  # noqa: S608 - our own constants
    )
    write.run(
        "applications sequence",
        "SELECT setval(pg_get_serial_sequence('applications', 'id'), "
        "(SELECT max(id) FROM applications))",
    )
    write.run(
        "registry entries",
        """
        INSERT INTO registry_entries (application_id, number, year, sequence, registered_at,
            time_zone, sha256)
        SELECT id, 'REG-' || year || '-' || lpad(sequence::text, 6, '0'), year, sequence,
            submitted_at, 'Europe/Madrid', encode(sha256(('answers of ' || id)::bytea), 'hex')
        FROM (
            SELECT id, submitted_at,
                extract(year FROM submitted_at AT TIME ZONE 'Europe/Madrid')::int AS year,
                row_number() OVER (PARTITION BY extract(year FROM submitted_at
                    AT TIME ZONE 'Europe/Madrid') ORDER BY submitted_at, id)::int AS sequence
            FROM bench_cases WHERE NOT is_draft
        ) AS numbered ORDER BY id
        """,
    )
    write.run(
        "registry counters",
        """
        INSERT INTO registry_counters (year, last)
        SELECT year, max(sequence) FROM registry_entries GROUP BY year
        """,
    )


#: The timeline of a case, step by step, in the order the steps happen (the portal reads
#: a case's events in id order): (what, the cases it happened to, the event's columns).
STEPS = (
    (
        "sent",
        "NOT is_draft",
        "submitted_at, 'submitted', NULL, 'submitted', "
        "CASE WHEN channel_name = 'counter' THEN 'staff' ELSE 'citizen' END, "
        "CASE WHEN channel_name = 'counter' THEN staff_id ELSE account_id END, NULL, true",
    ),
    (
        "receipt emailed",
        "NOT is_draft AND channel_name = 'online'",
        "submitted_at + interval '1 minute', 'receipt_emailed', NULL, NULL, 'system', NULL, "
        "NULL, true",
    ),
    (
        "claimed",
        "status NOT IN ('draft', 'submitted', 'withdrawn')",
        "reviewed_at - interval '1 minute', 'claimed', NULL, NULL, 'staff', staff_id, NULL, false",
    ),
    (
        "in review",
        "status NOT IN ('draft', 'submitted', 'withdrawn')",
        "reviewed_at, 'state_changed', 'submitted', 'in_review', 'staff', staff_id, NULL, true",
    ),
    (
        "information asked",
        "asked",
        "asked_at, 'information_requested', 'in_review', 'needs_information', 'staff', "
        "staff_id, 'Aporte el justificante de empadronamiento o el documento que falta.', true",
    ),
    (
        "information given",
        "asked AND decided",
        "answered_at, 'information_provided', 'needs_information', 'in_review', 'citizen', "
        "account_id, 'Adjunto el documento que me pidieron.', true",
    ),
    (
        "decided",
        "decided",
        "decided_at, CASE WHEN workflow = 'complaints' THEN 'state_changed' ELSE 'decided' END, "
        "'in_review', decision, 'staff', staff_id, "
        "'Vistos los documentos aportados y la normativa aplicable, se resuelve como consta.', "
        "true",
    ),
    (
        "closed",
        "status = 'closed'",
        "closed_at, 'state_changed', decision, 'closed', 'staff', "
        "staff_id, 'Expediente archivado.', true",
    ),
    (
        "withdrawn",
        "status = 'withdrawn'",
        "asked_at, 'state_changed', 'submitted', 'withdrawn', 'citizen', account_id, NULL, true",
    ),
)


def history(write: Writer, shape: Shape) -> None:
    for what, which, columns in STEPS:
        write.run(
            f"timeline: {what}",
            f"""
            INSERT INTO timeline_events (application_id, at, kind, from_state, to_state, actor,
                actor_account_id, reason, visible_to_citizen)
            SELECT id, {columns} FROM bench_cases WHERE {which} ORDER BY id
            """,  # noqa: S608 - our own constants
        )
    _notifications(write)
    _documents(write, shape)
    staffed = "status NOT IN ('draft', 'submitted', 'withdrawn')"
    write.run(
        "case holders",
        f"""
        INSERT INTO case_assignments (application_id, staff_account_id, assigned_at,
            assigned_by_account_id)
        SELECT id, staff_id, reviewed_at - interval '1 minute', staff_id
        FROM bench_cases WHERE {staffed}
        """,  # noqa: S608 - our own constants
    )
    write.run(
        "complaints routed",
        f"""
        INSERT INTO case_routes (application_id, unit, routed_at, routed_by_account_id)
        SELECT id, (ARRAY['Parques', 'Limpieza', 'Atención Ciudadana'])[1 + mod(id, 3)],
            reviewed_at, staff_id
        FROM bench_cases WHERE workflow = 'complaints' AND {staffed}
        """,  # noqa: S608 - our own constants
    )
    write.run(
        "staff reads (who used your data)",
        f"""
        INSERT INTO data_accesses (at, citizen_account_id, viewer_account_id, agency, unit, role,
            what, reference, purpose)
        SELECT c.reviewed_at - interval '2 minutes', c.account_id, c.staff_id, s.agency, s.unit,
            s.role, 'case', a.reference, 'case_handling'
        FROM bench_cases AS c
        JOIN applications AS a ON a.id = c.id
        JOIN bench_staff AS s ON s.account_id = c.staff_id
        WHERE c.{staffed} ORDER BY c.id
        """,  # noqa: S608 - our own constants
    )
    write.run(
        "satisfaction answers",
        """
        INSERT INTO satisfaction_answers (procedure_slug, agency, language, month, rating)
        SELECT slug, agency, 'es', date_trunc('month', decided_at)::date,
            (ARRAY[1, 2, 3, 4, 4, 5, 5, 5])[1 + mod(id, 8)]
        FROM bench_cases
        WHERE decided AND decided_at > now() - interval '1 year' AND mod(id, 10) = 0
        """,
    )
    write.run(
        "abandoned forms",
        f"""
        INSERT INTO abandoned_drafts (procedure_slug, channel, started_on, reached_page)
        SELECT p.slug, 'online', (now() - random() * {365 * YEARS} * interval '1 day')::date, NULL
        FROM generate_series(1, {max(1, shape.applications // 50)}) AS i
        JOIN bench_procedures AS p
            ON mod(i * 0.618034, 1) >= p.low AND mod(i * 0.618034, 1) < p.high
        """,  # noqa: S608 - our own constants
    )


def _notifications(write: Writer) -> None:
    """What the citizen was told: each staff step that tells them (``kind_of``)."""
    public_id = code(scrambled("n", 60, 4242), 12)
    write.run(
        "notifications",
        f"""
        INSERT INTO notifications (public_id, account_id, application_id, kind, formal, params,
            body, created_at, read_at, opened_at, email_wanted, emailed_at)
        SELECT 'N' || {public_id}, account_id, application_id, kind, formal,
            json_build_object('reference', reference, 'procedure', titles, 'status', citizen),
            body, at, read_at, CASE WHEN formal THEN read_at END, true, at
        FROM (
            SELECT row_number() OVER () AS n, c.account_id, e.application_id, e.at,
                e.reason AS body,
                CASE WHEN e.kind = 'information_requested' THEN 'request'
                     WHEN e.to_state = 'answered' THEN 'reply'
                     WHEN e.to_state IN ('resolved_favourable', 'resolved_unfavourable')
                         THEN 'decision'
                     ELSE 'status' END AS kind,
                e.kind = 'information_requested'
                    OR e.to_state IN ('resolved_favourable', 'resolved_unfavourable') AS formal,
                a.reference, c.titles, s.citizen,
                CASE WHEN e.at < now() - interval '3 days' OR mod(e.id, 2) = 0
                     THEN least(e.at + interval '1 day', now()) END AS read_at
            FROM timeline_events AS e
            JOIN bench_cases AS c ON c.id = e.application_id
            JOIN applications AS a ON a.id = e.application_id
            JOIN bench_states AS s ON s.workflow = c.workflow AND s.state = e.to_state
            WHERE e.actor <> 'citizen' AND e.to_state IS NOT NULL AND e.kind <> 'submitted'
            ORDER BY e.id
        ) AS told
        """,  # noqa: S608 - our own constants
    )


def _documents(write: Writer, shape: Shape) -> None:
    """Every receipt; a resolution for each decided case, and a certificate for half of
    the favourable ones; each issued one also a notification."""
    write.run(
        "receipts",
        f"""
        INSERT INTO issued_documents (csv, kind, account_id, application_id, agency, title,
            language, issued_at)
        SELECT {csv("c.id")}, 'receipt', c.account_id, c.id, c.agency, c.titles, a.language,
            c.submitted_at
        FROM bench_cases AS c JOIN applications AS a ON a.id = c.id
        WHERE NOT c.is_draft ORDER BY c.id
        """,  # noqa: S608 - our own constants
    )
    for kind, which, offset in (
        ("resolution", "c.decided AND c.workflow = 'standard'", shape.applications),
        (
            "certificate",
            "c.decision = 'resolved_favourable' AND mod(c.id, 2) = 0",
            2 * shape.applications,
        ),
    ):
        write.run(
            f"{kind}s",
            f"""
            INSERT INTO issued_documents (csv, kind, account_id, application_id, agency, title,
                language, issued_at, content, sha256)
            SELECT {csv(f"c.id + {offset}")}, '{kind}', c.account_id, c.id, c.agency, c.titles,
                a.language, c.decided_at + interval '1 hour', pdf.content, pdf.sha256
            FROM bench_cases AS c JOIN applications AS a ON a.id = c.id, bench_pdf AS pdf
            WHERE {which} ORDER BY c.id
            """,  # noqa: S608 - our own constants
        )
    write.run(
        "document notifications",
        f"""
        INSERT INTO notifications (public_id, account_id, application_id, kind, formal, params,
            created_at, read_at, email_wanted, emailed_at)
        SELECT 'D' || {code(scrambled("d.id", 60, 99), 12)},
            d.account_id, d.application_id, 'document', false,
            json_build_object('reference', a.reference, 'csv', d.csv, 'document', d.title),
            d.issued_at, least(d.issued_at + interval '1 day', now()), true, d.issued_at
        FROM issued_documents AS d JOIN applications AS a ON a.id = d.application_id
        WHERE d.kind <> 'receipt' ORDER BY d.id
        """,  # noqa: S608 - our own constants
    )
