"""The data the benchmarks run on, written through the portal's own functions.

Citizens are made as registering leaves them (verified email, an authenticator app, a
record to prefill forms from), with a submitted application, a draft and a signed-in
session, so the load generator can open their folders and forms straight away. Their
password hash is computed once and shared: it is a real argon2id hash with the app's
parameters, so verifying it costs what any citizen's costs, and making thousands of
accounts takes seconds instead of a minute of hashing.

Each citizen browses from an address of their own (from 198.18.0.0/15, the range RFC
2544 sets aside for benchmarks), sent as ``X-Forwarded-For`` to a portal that trusts one
proxy: per-address rate limits then count each citizen alone, as they would in
production, instead of counting the whole load as one address.
"""

from __future__ import annotations

import ipaddress
import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select

PASSWORD = "bench tres tristes tigres"  # noqa: S105 - the benchmark's citizens' password
#: Where forms prefill from: the attributes a citizen's record holds, with their sources.
RECORD: dict[str, tuple[Any, str]] = {
    "given_name": ("Ana", "police"),
    "family_name": ("López Ruiz", "police"),
    "national_id": ("12345678Z", "police"),
    "birth_date": ("1985-03-27", "police"),
    "phone": ("600 111 222", "citizen"),
    "address": (
        {
            "street": "Calle Mayor",
            "number": "5",
            "floor_door": "2º B",
            "postcode": "28999",
            "municipality": "Villanueva",
            "province": "Madrid",
        },
        "municipal_census",
    ),
}
#: The procedure whose form the load generator fills: short, no uploads, no sections, so a
#: whole submission is a handful of requests like most of the catalogue's.
FORM_PROCEDURE = "bulky-waste-collection"
#: The procedure each citizen already applied for (what their folder shows).
HISTORY_PROCEDURE = "civil-registry-certificate"
#: The procedure each citizen has a draft of (the question page the load generator reads).
DRAFT_PROCEDURE = "change-of-address"


def addresses() -> Iterator[str]:
    """Client addresses from the benchmarking range, 198.18.0.1 onwards."""
    network = ipaddress.ip_network("198.18.0.0/15")
    return (str(address) for address in itertools.islice(network.hosts(), 0, None))


@dataclass
class Citizen:
    email: str
    address: str
    totp_secret: str
    #: The signed session cookie's value (its name is the app's SESSION_COOKIE_NAME).
    session: str = ""
    applications: list[str] = field(default_factory=list)
    draft: str = ""


def session_cookie(app: Flask, account: Any, address: str) -> str:
    """Sign a citizen in as finishing the second factor would: a new session row with a
    second factor (AAL2), and the signed cookie that names it."""
    from identity import sessions

    token, _row = sessions.start(
        account, aal=2, amr=["otp", "pwd"], ip=address, user_agent="portal-bench"
    )
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.dumps({"sid": token})


def _accounts(emails: list[str], password_hash: str) -> dict[str, int]:
    """Verified accounts for ``emails`` in one insert; their ids by email."""
    from identity.models import Account, utcnow
    from portal.extensions import db

    now = utcnow()
    db.session.execute(
        insert(Account),
        [
            {
                "email": email,
                "email_verified_at": now,
                "password_hash": password_hash,
                "password_changed_at": now,
                "language": "es",
                "webauthn_user_handle": secrets.token_bytes(32),
            }
            for email in emails
        ],
    )
    rows = db.session.execute(select(Account.id, Account.email).where(Account.email.in_(emails)))
    return {email: account_id for account_id, email in rows}


def _authenticator_apps(ids: dict[str, int], secrets_by_email: dict[str, str]) -> None:
    from identity import encryption
    from identity.models import Factor, FactorKind
    from portal.extensions import db

    db.session.execute(
        insert(Factor),
        [
            {
                "account_id": ids[email],
                "kind": FactorKind.TOTP,
                "name": "Phone",
                "totp_secret_encrypted": encryption.encrypt(secret),
            }
            for email, secret in secrets_by_email.items()
        ],
    )


def sign_in_accounts(app: Flask, count: int, prefix: str = "signin") -> list[tuple[str, str]]:
    """``count`` accounts with a password and an authenticator app, ready to sign in;
    returns (email, TOTP secret) pairs."""
    from identity import passwords, totp
    from portal.extensions import db

    with app.app_context():
        password_hash = passwords.hash_password(PASSWORD)
        made = {f"{prefix}-{n}@bench.portal.example": totp.new_secret() for n in range(count)}
        for start in range(0, count, 1000):
            chunk = dict(list(made.items())[start : start + 1000])
            ids = _accounts(list(chunk), password_hash)
            _authenticator_apps(ids, chunk)
        db.session.commit()
    return list(made.items())


def citizens(app: Flask, count: int) -> list[Citizen]:
    """``count`` signed-in citizens, each with a record, a submitted application and a
    draft (of another procedure than the form the load generator submits, whose page for
    a citizen with a draft offers to continue it instead of starting)."""
    from identity import record
    from identity.models import Account
    from portal.extensions import db
    from portal.folder.demo import submitted
    from procedures import applications, catalogue

    recorded_at = datetime(2026, 3, 12, 11, 0, tzinfo=UTC)
    made = [
        Citizen(f"citizen-{n}@bench.portal.example", address, "")
        for n, address in zip(range(count), addresses(), strict=False)
    ]
    sign_ins = sign_in_accounts(app, count, prefix="citizen")
    for citizen, (_email, secret) in zip(made, sign_ins, strict=True):
        citizen.totp_secret = secret
    with app.test_request_context("/es/", base_url=app.config["PUBLIC_URL"]):
        drafted = catalogue.get(DRAFT_PROCEDURE)
        assert drafted is not None, DRAFT_PROCEDURE  # noqa: S101 - a shipped procedure
        for n, citizen in enumerate(made):
            account = db.session.scalar(select(Account).where(Account.email == citizen.email))
            for name, (value, source) in RECORD.items():
                record.record(account, name, value, source, verified=True, when=recorded_at)
            case = submitted(account, HISTORY_PROCEDURE, "es", recorded_at + timedelta(days=n % 30))
            citizen.applications.append(case.reference)
            citizen.draft = applications.start(account, drafted, "es").reference
            citizen.session = session_cookie(app, account, citizen.address)
            db.session.commit()
    return made


@dataclass
class Demo:
    """The demo citizen (a busy folder) and supervisor (an inbox), signed in."""

    citizen_session: str
    staff_session: str
    draft: str


def demo(app: Flask) -> Demo:
    """Load ``make run``'s demo data (the busiest folder and inbox the portal ships) and sign
    its citizen and supervisor in."""
    from identity import accounts
    from identity.demo import EMAIL as CITIZEN
    from portal.backoffice.demo import EMAIL as SUPERVISOR
    from portal.cli import DEMO_LOADERS
    from portal.extensions import db
    from procedures import applications, catalogue

    with app.test_request_context("/es/", base_url=app.config["PUBLIC_URL"]):
        for loader in DEMO_LOADERS:
            loader()
        citizen = accounts.find_by_email(CITIZEN)
        supervisor = accounts.find_by_email(SUPERVISOR)
        procedure = catalogue.get(FORM_PROCEDURE)
        assert citizen and supervisor and procedure  # noqa: S101 - the shipped demo
        draft = applications.start(citizen, procedure, "es").reference
        made = Demo(
            session_cookie(app, citizen, "198.19.255.1"),
            session_cookie(app, supervisor, "198.19.255.2"),
            draft,
        )
        db.session.commit()
    return made


def answers(app: Flask, slug: str) -> dict[str, list[tuple[str, str]]]:
    """A valid answer to every question of a procedure's form, as a browser posts each
    page (the samples the tests and the demo apply with)."""
    from procedures import catalogue
    from procedures.samples import sample

    with app.app_context():
        procedure = catalogue.get(slug)
        assert procedure is not None and procedure.form is not None, slug  # noqa: S101
        pages: dict[str, list[tuple[str, str]]] = {}
        for page in procedure.form.pages:
            fields: list[tuple[str, str]] = []
            for one in page.fields:
                if one.type == "file":
                    raise ValueError(f"{slug}: the load generator's form posts no files")
                value = sample(one)
                if one.type == "date":
                    year, month, day = value.split("-")
                    fields += [(f"{one.id}-day", day), (f"{one.id}-month", month)]
                    fields.append((f"{one.id}-year", year))
                elif one.type == "address":
                    fields += [(f"{one.id}-{key}", part) for key, part in value.items()]
                elif isinstance(value, list):
                    fields += [(one.id, choice) for choice in value]
                else:
                    fields.append((one.id, value))
            pages[page.id] = fields
        return pages


def first_page(app: Flask, slug: str) -> str:
    from procedures import catalogue

    with app.app_context():
        procedure = catalogue.get(slug)
        assert procedure is not None and procedure.form is not None, slug  # noqa: S101
        return procedure.form.pages[0].id


def procedure_slugs(app: Flask) -> list[str]:
    from procedures import catalogue

    with app.app_context():
        return sorted(procedure.slug for procedure in catalogue.current())
