"""Demo accounts for ``make run``: one citizen with an authenticator app, ready to sign in.

Never loaded in production (``flask demo load`` refuses there). The secret
and the recovery codes are fixed so the printed instructions stay true each
time the demo is loaded again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from identity import accounts, encryption, record, recovery, totp
from identity.models import Account, Factor, FactorKind, RecoveryCode
from portal.extensions import db

EMAIL = "ana@demo.portal.example"
PASSWORD = "demo tres tristes tigres"  # noqa: S105 - a published demo password
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - the demo's published key
RECOVERY_CODES = [f"DEMA-PASS-KEYS-{letter * 4}" for letter in recovery.ALPHABET[:10]]


def load() -> list[str]:
    account = accounts.find_by_email(EMAIL)
    if account is None:
        created = accounts.create_account(EMAIL, PASSWORD, "es")
        if created is None:  # created meanwhile by another process
            return []
        account = created
        accounts.mark_email_verified(account)
        account.factors.append(
            Factor(
                kind=FactorKind.TOTP,
                name="Aplicación del móvil",
                totp_secret_encrypted=encryption.encrypt(TOTP_SECRET),
            )
        )
        for code in RECOVERY_CODES:
            db.session.add(RecoveryCode(account_id=account.id, code_hash=recovery.hash_code(code)))
        _record(account)
        db.session.commit()
    _agency_client()
    return [
        "Demo citizen (sign in at /es/account/sign-in):",
        f"  email:     {EMAIL}",
        f"  password:  {PASSWORD}",
        f"  app code:  add the key {totp.grouped(TOTP_SECRET)} to an authenticator app,",
        "             or print the current code with: flask --app wsgi users code " + EMAIL,
        f"  recovery codes: {', '.join(RECOVERY_CODES[:3])}, ...",
        "  Emails (account creation, password reset) are written to instance/mail/.",
        f"Demo agency client (examples/agency, `make agency-demo`): {AGENCY_CLIENT_ID}",
    ]


AGENCY_CLIENT_ID = "demo-agency"
AGENCY_SECRET = "demo-agency-secret-not-for-production"  # noqa: S105 - published demo value
AGENCY_URL = "http://localhost:5001"


def _agency_client() -> None:
    """The client ``examples/agency`` signs in with (fixed id and secret, as its README says)."""
    from identity.oidc import clients

    if clients.find(AGENCY_CLIENT_ID) is not None:
        return
    clients.create(
        "Agencia Tributaria de demostración",
        [f"{AGENCY_URL}/callback"],
        client_id=AGENCY_CLIENT_ID,
        secret=AGENCY_SECRET,
        sector="demo-agency.example",
        post_logout_redirect_uris=[f"{AGENCY_URL}/"],
        backchannel_logout_uri=f"{AGENCY_URL}/backchannel-logout",
    )
    db.session.commit()


def _record(account: Account) -> None:
    """Ana's record, as the census and the police hold it: forms fill themselves from it."""
    census = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    police = datetime(2024, 6, 3, 11, 0, tzinfo=UTC)
    for name, value, source, when in (
        ("given_name", "Ana", "police", police),
        ("family_name", "García Pérez", "police", police),
        ("national_id", "12345678Z", "police", police),
        ("birth_date", "1985-03-27", "police", police),
        (
            "address",
            {
                "street": "Calle Mayor",
                "number": "5",
                "floor_door": "2º B",
                "postcode": "28999",
                "municipality": "Villanueva",
                "province": "Madrid",
            },
            "municipal_census",
            census,
        ),
        ("phone", "+34 600 123 456", "citizen", census),
    ):
        record.record(account, name, value, source, verified=source != "citizen", when=when)
