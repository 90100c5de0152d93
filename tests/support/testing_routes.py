"""Routes that exist only in tests: they trigger each error page and show every component.

They are registered by the test fixtures, never by ``create_app``, so they are
not part of the portal (and not in the route inventory), but the error pages
and component examples they render are the real ones.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email

from portal.extensions import limiter

blueprint = Blueprint(
    "testing", __name__, url_prefix="/<lang:lang>/_test", template_folder="templates"
)

ERROR_CODES = (400, 403, 404, 405, 410, 413, 500)
STATE_PASSWORD = "el perro de san roque no tiene rabo"
OTHER_BROWSER = "Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0"


class ExampleForm(FlaskForm):
    """A form with one field of each kind the field macro draws."""

    full_name = StringField("Full name", validators=[DataRequired("Enter your full name")])
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address"), Email("Enter a valid email")],
    )
    contact = RadioField(
        "How should we contact you?",
        choices=[SelectChoice("email", "Email"), SelectChoice("phone", "Phone")],
        validators=[DataRequired("Select how we should contact you")],
    )
    topics = SelectMultipleField(
        "Topics",
        choices=[SelectChoice("housing", "Housing"), SelectChoice("health", "Health")],
        validate_choice=False,
    )
    district = SelectField(
        "District",
        choices=[SelectChoice("north", "North"), SelectChoice("south", "South")],
        validate_choice=False,
    )
    details = TextAreaField("Details")
    agree = BooleanField("I agree")


@blueprint.route("/error/<int:code>", methods=["GET"])
def error(code: int) -> str:
    if code == 500:
        raise RuntimeError("A test of the server error page")
    abort(code)


@blueprint.route("/error/database", methods=["GET"])
def database_gone() -> str:
    """What a query raises when PostgreSQL restarts under it (psycopg's OperationalError)."""
    from sqlalchemy.exc import OperationalError

    raise OperationalError("SELECT 1", {}, Exception("terminating connection"))


@blueprint.route("/post-only", methods=["POST"])
def post_only() -> str:
    return "posted"


@blueprint.get("/limited")
@limiter.limit("2 per minute")
def limited() -> str:
    return "fine"


@blueprint.route("/form", methods=["GET", "POST"])
def form() -> str:
    """A CSRF-protected form: posting it without a token shows "your form has expired"."""
    example = ExampleForm()
    example.validate_on_submit()
    return render_template("testing/form.html", form=example)


@blueprint.get("/components")
def components() -> str:
    """Every component macro with its named examples (as govuk-frontend tests them)."""
    form = ExampleForm(meta={"csrf": False})
    form.validate()  # fills every error, so the error state is drawn too
    return render_template("testing/components.html", form=form)


def _application(account: object, values: dict[str, str], submitted: bool) -> str:
    """A draft of ``values["procedure"]`` (its pages up to ``values["page_id"]`` answered, or
    all of them), or that application submitted: for the application pages' checks."""
    from procedures import applications, catalogue, samples

    procedure = catalogue.get(values.pop("procedure", "change-of-address"))
    application = applications.start(account, procedure, g.lang)
    samples.fill(application, procedure, stop_at=None if submitted else values.get("page_id"))
    if "file_id" in values:
        values["file_id"] = str(application.files[0].id)
    if submitted:
        applications.submit(application, procedure)
    return application.reference


def _appointment(account: object, values: dict[str, str]) -> str:
    """A booking at the first free time of ``values["office"]`` (the town hall by default);
    ``values["slot"]`` becomes another free time, for the change pages."""
    from procedures import appointments, offices
    from procedures.views.booking import slot_token

    directory = offices.current()
    office = directory.offices[values.pop("office", "town-hall")]
    service = directory.services["citizen-office"]
    day = appointments.first_day(office)
    free = [
        slot.starts_at
        for week in range(5)
        for one in appointments.free_days(office, service, day + timedelta(days=7 * week))
        for slot in one.slots
    ]
    booked = appointments.book(account, office, service, free[0], g.lang)
    if "slot" in values:
        values["slot"] = slot_token(free[1])
    return booked.reference


def _folder(account: Any, values: dict[str, str]) -> None:
    """A busy folder (portal.folder.demo); the URL's ``reference`` becomes the case waiting
    for the citizen (or ``decided``), ``code`` the certificate's CSV, and ``public_id`` the
    unopened formal notification (``formal``) or the certificate's notice. ``closed`` is
    the closed case whose satisfaction survey is unanswered."""
    from portal.folder import demo
    from procedures import documents

    history = demo.busy(account, g.lang)
    if values.get("reference") == "decided":
        values["reference"] = history.decided
    elif values.get("reference") == "closed":
        values["reference"] = history.closed
    elif "reference" in values:
        values["reference"] = history.waiting
    if "code" in values:
        values["code"] = documents.grouped(history.certificate)
    if values.get("public_id") == "formal":
        values["public_id"] = history.formal_notification
    elif "public_id" in values:
        values["public_id"] = history.notification


def _connect(account: Any, name: str, endpoint: str, values: dict[str, str]) -> Response:
    """An agency's sign-in request (``connect``), or a service already connected
    (``connected``). ``values["acr"]`` asks for that level, from a citizen with no key."""
    from identity.oidc import authorize, clients
    from portal.extensions import db

    registered = clients.create(
        "Agencia de pruebas", ["https://agency.example/callback"], sector="agency.example"
    )
    if name == "connected":
        authorize.record_consent(account, registered.client, ["openid", "profile", "email"], True)
        db.session.commit()
        return redirect(url_for(endpoint, **values))
    acr = values.pop("acr", None)
    if acr:
        account.factors = [f for f in account.factors if f.kind == "totp"]
    db.session.commit()
    query = {
        "response_type": "code",
        "client_id": registered.client.client_id,
        "redirect_uri": "https://agency.example/callback",
        "scope": "openid profile email address phone citizen_id offline_access",
        "state": "s",
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **({"acr_values": acr} if acr else {}),
    }
    return redirect(url_for(endpoint, **values, **query))


def _staff(account: Any, name: str, values: dict[str, str]) -> None:
    """``account`` becomes a supervisor of the agency handling a busy citizen's case (the
    one waiting for the citizen, or the one ``reference`` or ``case`` names: ``decided``
    or ``reviewed``), holding it; with a ``reference``, having opened it for a purpose
    too. ``file_id`` becomes one of its files; ``account_id`` (or ``citizen``) the citizen's
    account, found in a search for a purpose (their record may be opened); ``contact_id``
    a call from them the staff member recorded; ``reference=counter`` an
    application the staff member is filling in with the citizen at a counter (a caseworker
    of the City Council, then). ``staff_weak`` is an administrator
    signed in with an authenticator app, not the passkey or key administrators need."""
    from identity import accounts
    from portal.backoffice import access, cases, staff
    from portal.extensions import db
    from portal.folder import demo
    from procedures import catalogue
    from procedures.models import Application, ApplicationFile

    citizen = accounts.create_account(
        f"citizen-{secrets.token_hex(6)}@example.es", STATE_PASSWORD, g.lang
    )
    accounts.mark_email_verified(citizen)
    history = demo.busy(citizen, g.lang)
    chosen = values.pop("case", None) or values.get("reference")
    reference = {"decided": history.decided, "reviewed": history.reviewed}.get(
        chosen or "", history.waiting
    )
    if chosen == "complaint":
        reference = _complaint(citizen)
    slug = db.session.scalar(
        select(Application.procedure_slug).where(Application.reference == reference)
    )
    if values.get("reference") == "counter":
        _counter(account, citizen, values)
        return
    role = "administrator" if name == "staff_weak" else "supervisor"
    member = staff.make_staff(account, catalogue.get(slug).agency.key, "Registro", role)
    if name == "staff_weak":
        return
    me = staff.Staff(member, account)
    application_id, _owner = cases.locate(me, reference) or (0, None)
    cases.claim(me, application_id)
    if "reference" in values:
        access.open_case(me, citizen.id, reference, "case_handling", None)
        values["reference"] = reference
    for key in ("account_id", "citizen"):
        if key in values:
            access.record(me, citizen.id, "search", "", "enquiry", None)
            values[key] = str(citizen.id)
    if "contact_id" in values:
        from identity.models import utcnow
        from portal.backoffice import contacts

        call = contacts.record(
            me,
            citizen_id=citizen.id,
            channel="phone",
            topic="Certificado de empadronamiento",
            summary="Pregunta por el certificado.",
            outcome="follow_up",
            follow_up_on=utcnow().date(),
        )
        values["contact_id"] = str(call.id)
    if "opinion_id" in values:  # Social Services ask the reader's unit for its opinion
        from portal.backoffice.models import Opinion

        asked = Opinion(
            application_id=application_id,
            agency=member.agency,
            from_unit="Servicios Sociales",
            to_unit=member.unit,
            question="¿Consta esta persona en su registro?",
        )
        db.session.add(asked)
        db.session.flush()
        values["opinion_id"] = str(asked.id)
    if "file_id" in values:
        values["file_id"] = str(
            db.session.scalar(
                select(ApplicationFile.id).where(ApplicationFile.application_id == application_id)
            )
        )


def _staff_admin(account: Any, values: dict[str, str]) -> None:
    """``account`` administers the City Council's staff, with a colleague in another unit
    (``member_id``) and a confirmed account that is not staff yet (for adding)."""
    from identity import accounts
    from portal.backoffice import staff

    staff.make_staff(account, "city-council", "Secretaría", "administrator")
    colleague = accounts.create_account(
        f"colleague-{secrets.token_hex(4)}@example.es", STATE_PASSWORD, g.lang
    )
    accounts.mark_email_verified(colleague)
    member = staff.make_staff(colleague, "city-council", "Padrón", "caseworker")
    newcomer = accounts.create_account(
        f"newcomer-{secrets.token_hex(4)}@example.es", STATE_PASSWORD, g.lang
    )
    accounts.mark_email_verified(newcomer)
    if "member_id" in values:
        from portal.extensions import db

        db.session.flush()
        values["member_id"] = str(member.id)


def _complaint(citizen: Any) -> str:
    """A complaint the citizen sent to the City Council (the complaints workflow)."""
    from identity import accounts
    from portal.backoffice import staff
    from procedures import applications, catalogue, samples

    procedure = catalogue.get("complaint-or-suggestion")
    application = applications.start(citizen, procedure, g.lang)
    samples.fill(application, procedure)
    applications.submit(application, procedure)
    # Another unit of the agency, for the routing form to offer.
    colleague = accounts.create_account(
        f"social-{secrets.token_hex(4)}@example.es", STATE_PASSWORD, g.lang
    )
    staff.make_staff(colleague, procedure.agency.key, "Servicios Sociales", "caseworker")
    return application.reference


def _counter(account: Any, citizen: Any, values: dict[str, str]) -> None:
    """``account`` is a City Council caseworker filling in a bulky-waste collection with
    ``citizen`` at the counter; ``reference`` becomes that draft."""
    from portal.backoffice import access, counter, staff
    from procedures import catalogue

    procedure = catalogue.get("bulky-waste-collection")
    member = staff.make_staff(account, procedure.agency.key, "Registro", "caseworker")
    me = staff.Staff(member, account)
    access.record(me, citizen.id, "search", "", "counter", None)
    values["reference"] = counter.start(me, citizen, procedure, g.lang).reference


SIGNED_IN_STATES = (
    "signed_in",
    "draft",
    "submitted",
    "appointment",
    "connect",
    "connected",
    "folder",
    "staff",
    "staff_weak",
    "staff_admin",
)


@blueprint.get("/state/<name>")
def state(name: str) -> Response:
    """Put this browser in a state (signed in, half-way through signing in...), then go to
    ``endpoint``: how the page checks and axe reach pages that need one.

    Each visit makes a new account, so states never interfere with each other.
    """
    from identity import accounts, encryption, factors, signin, tokens, totp
    from identity.models import Factor, FactorKind
    from portal.extensions import db

    endpoint = request.args["endpoint"]
    values = {key: value for key, value in request.args.items() if key != "endpoint"}
    email = f"state-{secrets.token_hex(6)}@example.es"
    account = accounts.create_account(email, STATE_PASSWORD, g.lang)
    accounts.mark_email_verified(account)
    if name in (*SIGNED_IN_STATES, "pending"):  # every state with factors set up
        secret = totp.new_secret()
        account.factors.append(
            Factor(
                kind=FactorKind.TOTP, name="Phone", totp_secret_encrypted=encryption.encrypt(secret)
            )
        )
        account.factors.append(
            Factor(
                kind=FactorKind.SECURITY_KEY,
                name="Blue key",
                credential_id=secrets.token_bytes(32),
                public_key=b"-",
                sign_count=0,
                backup_eligible=False,
            )
        )
        factors.new_recovery_codes(account)
        if "factor_id" in values:
            db.session.flush()
            values["factor_id"] = str(account.factors[0].id)
    if name in SIGNED_IN_STATES:
        from identity import sessions

        sessions.start(account, 2, ["pwd", "otp", "mfa"], "192.0.2.7", OTHER_BROWSER)
        # An administrator signs in with their security key, as staff pages require of them.
        second = "hwk" if name == "staff_admin" else "otp"
        signin.finish_sign_in(account, factors.Assurance(2, sorted(["mfa", second, "pwd"])))
        flash(request.args.get("flash", "Signed in for a test."), "success")
    if name in ("draft", "submitted"):
        values["reference"] = _application(account, values, submitted=name == "submitted")
    elif name == "appointment":
        values["reference"] = _appointment(account, values)
    elif name == "folder":
        _folder(account, values)
    elif name in ("staff", "staff_weak"):
        _staff(account, name, values)
    elif name == "staff_admin":
        _staff_admin(account, values)
    elif name in ("connect", "connected"):
        return _connect(account, name, endpoint, values)
    elif name == "pending":
        signin.begin_pending(account, signin.SIGN_IN)
    elif name in ("enrolling", "new_codes"):
        signin.begin_pending(account, signin.ENROL)
        if name == "new_codes":
            codes = factors.new_recovery_codes(account)
            session["new_codes"] = encryption.encrypt(json.dumps(codes))
    elif name == "check_email":
        session["check_email"] = email
    elif name in ("reset_password", "not_me"):
        values["token"] = tokens.make(account, name)
    db.session.commit()
    return redirect(url_for(endpoint, **values))
