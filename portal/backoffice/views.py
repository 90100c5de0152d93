"""The back office's pages: thin views over ``cases``, ``access`` and ``staff``.

Cases of another agency, and every staff page for someone who is not staff, answer 404
(the page does not exist for them); a caseworker trying a supervisor's action gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from identity import signin
from identity.models import Account
from portal import audit
from portal.audit import PURPOSES, DataAccess
from portal.backoffice import access, blueprint, cases, complaints, forms, opinions, staff
from portal.backoffice import citizens as citizens_module
from portal.extensions import db, limiter
from portal.folder import my_data
from procedures import receipts, uploads, workflow
from procedures.models import ApplicationFile
from procedures.views import current_lang

audit.guard(blueprint)  # before the staff check below, so the audit scope is open first


def language_name(code: str) -> str:
    """The applicant's language named in the staff member's ("catalán" to a Spanish reader)."""
    try:
        return Locale.parse(code).get_language_name(str(get_locale())) or code
    except (ValueError, UnknownLocaleError):
        return code


def is_staff() -> bool:
    """For the layout's header link: only staff see the way in.

    The header is on every page, so the answer is kept in the session (cleared at each
    sign-in) rather than asked of the database per page; staff pages refresh it, and
    they check the membership themselves whatever the link says."""
    if not current_user or not current_user.is_authenticated:
        return False
    if "staff" not in session:
        session["staff"] = staff.membership(current_user.id) is not None
    return bool(session["staff"])


@blueprint.before_request
def _staff_only() -> str | Response | None:
    if not current_user.is_authenticated:
        return signin.login_manager.unauthorized()
    member = staff.membership(current_user.id)
    if session.get("staff") != (member is not None):
        session["staff"] = member is not None
    if member is None:
        abort(404)
    if not staff.session_strong_enough(member, signin.current_session()):
        page = render_template("backoffice/second_factor.html", member=member)
        return page, 403  # type: ignore[return-value]
    g.staff = staff.Staff(member, current_user._get_current_object())
    return None


def _filters() -> cases.Filters:
    args = request.args
    assigned = args.get("assigned", "all")
    return cases.Filters(
        procedure=args.get("procedure", ""),
        state=args.get("state", "open") or "open",
        assigned=assigned if assigned in cases.ASSIGNED else "all",
        overdue=args.get("overdue") == "1",
        waiting=args.get("waiting") == "1",
    )


@blueprint.get("/")
def inbox() -> str | Response:
    me = staff.current()
    lang = current_lang()
    filters = _filters()
    found = inbox_page(me, filters)
    if isinstance(found, Response):
        return found
    procedures = cases.agency_procedures(me.agency)
    return render_template(
        "backoffice/inbox.html",
        me=me,
        rows=found.rows,
        total=found.total,
        beyond_count=found.beyond_count,
        count_limit=cases.COUNT_LIMIT,
        overdue=found.overdue,
        before=found.previous,
        after=found.next,
        filters=filters,
        procedure_options=sorted(
            ((p.slug, p.text(lang).title) for p in procedures), key=lambda option: option[1]
        ),
        states=cases.states_of(procedures, lang).items(),
        query=filter_query(),
    )


def filter_query() -> dict[str, str]:
    """The filters of this page, for the links to its neighbours."""
    return {k: v for k, v in request.args.items() if k not in ("after", "before", "page")}


def inbox_page(me: staff.Staff, filters: cases.Filters) -> cases.InboxPage | Response:
    """The page of cases the ``after`` or ``before`` argument asks for; 404 for a case the
    agency does not have, and the first page again when none is left beyond the one named
    (its neighbours closed since the link was made)."""
    after, before = request.args.get("after"), request.args.get("before")
    try:
        found = cases.inbox(me, filters, current_lang(), after=after, before=before)
    except cases.UnknownCaseError:
        abort(404)
    if not found.rows and (after or before):
        return redirect(url_for(request.endpoint or ".inbox", **filter_query()))
    return found


def _located(reference: str) -> tuple[int, int | None]:
    found = cases.locate(staff.current(), reference)
    if found is None:
        abort(404)
    return found


def opened(view: Callable[..., Any]) -> Callable[..., Any]:
    """Call ``view(case, grant, ...)`` once this staff member has said why they open the
    case; before that, every such page sends them to the purpose page."""

    @wraps(view)
    def wrapper(reference: str, **values: Any) -> Any:
        application_id, owner = _located(reference)
        grant = access.current_grant(staff.current(), owner or 0, reference)
        if grant is None:
            return redirect(url_for(".open_case", reference=reference, next=request.path))
        return view(cases.load(application_id), grant, **values)

    return wrapper


def back_to_case(reference: str) -> Response:
    return redirect(url_for(".case", reference=reference))


@blueprint.post("/cases/<reference>/claim")
@limiter.limit("60 per minute")
def claim(reference: str) -> Response:
    application_id, _owner = _located(reference)
    if cases.claim(staff.current(), application_id):
        db.session.commit()
        flash(_("The case %(reference)s is yours.", reference=reference), "success")
    else:
        db.session.rollback()
        flash(
            _("Someone else took the case %(reference)s first.", reference=reference), "important"
        )
    target = request.form.get("next")
    return redirect(signin.safe_next(target) or url_for(".case", reference=reference))


@blueprint.route("/cases/<reference>/open", methods=["GET", "POST"])
def open_case(reference: str) -> str | Response:
    _application_id, owner = _located(reference)
    form = forms.PurposeForm()
    target = signin.safe_next(request.values.get("next")) or url_for(".case", reference=reference)
    if form.validate_on_submit():
        access.open_case(
            staff.current(), owner or 0, reference, form.purpose.data, form.detail.data
        )
        db.session.commit()
        return redirect(target)
    return render_template("backoffice/open.html", form=form, reference=reference, target=target)


def _events(found: cases.StaffCase, lang: str) -> list[dict[str, Any]]:
    kinds = cases.TIMELINE_TITLES
    states = found.procedure.workflow.states
    names = cases.actor_names(found.application.events)
    actors = {"citizen": _("Applicant"), "system": _("Portal Ciudadano")}
    shown = []
    for event in reversed(found.application.events):
        title = str(kinds.get(event.kind, ""))
        if event.to_state in states:
            status = _("Status: %(status)s", status=states[event.to_state].staff(lang))
            title = f"{title} · {status}" if title else status
        if not event.visible_to_citizen:
            title = _("%(title)s (not shown to the applicant)", title=title or event.kind)
        actor = (
            names.get(event.actor_account_id or 0, _("Staff"))
            if event.actor == "staff"
            else actors.get(event.actor, event.actor)
        )
        shown.append(
            {
                "title": title or event.kind,
                "datetime": event.at.isoformat(),
                "time_text": format_datetime(event.at, "medium"),
                "actor": actor,
                "body": event.reason,
            }
        )
    return shown


@blueprint.get("/cases/<reference>")
@opened
def case(found: cases.StaffCase, grant: DataAccess) -> str:
    lang = current_lang()
    return render_template(
        "backoffice/case.html",
        me=staff.current(),
        case=found,
        grant=grant,
        events=_events(found, lang),
        request_open=workflow.open_request(found.application, found.procedure),
        language_name=language_name(found.application.language),
        assisted_by=cases.email_of(found.application.assisted_by_account_id),
        complaint=complaints.is_complaint(found),
        route_form=forms.route_form(complaints.units(staff.current().agency), found.unit)
        if complaints.is_complaint(found)
        else None,
        opinions=opinions.of_case(found.application.id),
        assign_form=_assign_form(),
        record_rows=_record_rows(found),
        answers=receipts.answer_rows(
            found.application, found.procedure, found.application.answers, lang
        ),
        files=found.application.files,
        grant_purpose=grant.purpose_detail or PURPOSES.get(grant.purpose, grant.purpose),
        hold=access.HOLD,
    )


def _record_rows(found: cases.StaffCase) -> list[dict[str, Any]]:
    """The applicant's record, each value with where it came from and when."""
    rows = []
    for row in found.citizen:
        value: Any = row.value or _("Not held")
        if row.attribute is not None:
            value = Markup('{}<span class="hint">{}</span>').format(
                row.value, my_data.source_text(row.attribute)
            )
        rows.append({"key": row.label, "value": value})
    return rows


def _assign_form() -> forms.AssignForm:
    form = forms.AssignForm()
    form.to.choices = [("", _("Select someone"))] + [
        (str(one), email) for one, email, _role in staff.colleagues(staff.current().agency)
    ]
    return form


@blueprint.get("/cases/<reference>/files/<int:file_id>")
@limiter.limit("60 per minute")
@opened
def download(found: cases.StaffCase, grant: DataAccess, file_id: int) -> Response:
    stored = db.session.get(ApplicationFile, file_id)
    if stored is None or stored.application_id != found.application.id:
        abort(404)
    access.open_file(staff.current(), grant)
    db.session.commit()
    return send_file(
        uploads.path_of(stored),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.original_name,
    )


def holding(found: cases.StaffCase) -> None:
    try:
        cases.check_holder(staff.current(), found)
    except cases.NotHolderError:
        abort(403)


def step_page(
    found: cases.StaffCase, template: str, form: Any, act: Any, done: str
) -> str | Response:
    """A page with one form that acts on the case: shown, then (valid) done and back."""
    holding(found)
    if form.validate_on_submit():
        try:
            act(form)
        except workflow.TransitionRefusedError:
            db.session.rollback()
            flash(
                _("The case has moved on since you opened this page. Check it again."), "important"
            )
            return back_to_case(found.reference)
        db.session.commit()
        flash(done, "success")
        return back_to_case(found.reference)
    return render_template(
        template,
        me=staff.current(),
        case=found,
        form=form,
        language_name=language_name(found.application.language),
    )


@blueprint.route("/cases/<reference>/request", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def request_information(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    return step_page(
        found,
        "backoffice/request.html",
        forms.RequestForm(),
        lambda form: cases.request_information(staff.current(), found, form.message.data.strip()),
        _("We asked the applicant for information. The legal clock is paused."),
    )


@blueprint.route("/cases/<reference>/note", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def note(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    form = forms.NoteForm()
    if form.validate_on_submit():
        cases.add_note(staff.current(), found, form.text.data.strip())
        db.session.commit()
        flash(_("Note added. The applicant does not see it."), "success")
        return back_to_case(found.reference)
    return render_template("backoffice/note.html", me=staff.current(), case=found, form=form)


@blueprint.route("/cases/<reference>/decide", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def decide(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    return step_page(
        found,
        "backoffice/decide.html",
        forms.DecideForm(),
        lambda form: cases.decide(
            staff.current(), found, form.outcome.data, form.ground.data, form.extra.data or ""
        ),
        _("Decision recorded. The applicant has been notified."),
    )


@blueprint.route("/cases/<reference>/close", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def close(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    return step_page(
        found,
        "backoffice/close.html",
        forms.CloseForm(),
        lambda form: cases.close(staff.current(), found, (form.reason.data or "").strip()),
        _("The case is closed."),
    )


def _button(found: cases.StaffCase, act: Any, done: str, refused: str) -> Response:
    """A button that acts on the case at once; a refused act changes nothing and says so."""
    holding(found)
    try:
        act()
    except ValueError:  # TransitionRefusedError too: someone moved the case first
        db.session.rollback()
        flash(refused, "important")
        return back_to_case(found.reference)
    db.session.commit()
    flash(done, "success")
    return back_to_case(found.reference)


@blueprint.post("/cases/<reference>/review")
@limiter.limit("60 per minute")
@opened
def start_review(found: cases.StaffCase, _grant: DataAccess) -> Response:
    return _button(
        found,
        lambda: cases.start_review(staff.current(), found),
        _("The case is in review."),
        _("The case has moved on since you opened this page. Check it again."),
    )


@blueprint.post("/cases/<reference>/documents")
@limiter.limit("20 per minute")
@opened
def issue(found: cases.StaffCase, _grant: DataAccess) -> Response:
    kind = request.form.get("kind", "")
    if kind not in ("certificate", "resolution"):
        abort(400)
    return _button(
        found,
        lambda: cases.issue_document(staff.current(), found, kind),
        _("Document issued. The applicant has it in their folder."),
        _("That document cannot be issued for this case."),
    )


@blueprint.post("/cases/<reference>/assign")
@limiter.limit("60 per minute")
def assign(reference: str) -> str | Response:
    me = staff.current()
    if not me.may("supervisor"):
        abort(403)
    application_id, _owner = _located(reference)
    form = _assign_form()
    if not form.validate_on_submit():
        flash(_("Select who will handle the case"), "important")
        return redirect(url_for(".inbox"))
    email = cases.assign(me, application_id, int(form.to.data))
    db.session.commit()
    flash(
        _("The case %(reference)s is now with %(email)s.", reference=reference, email=email),
        "success",
    )
    target = signin.safe_next(request.form.get("next"))
    return redirect(target or url_for(".inbox"))


@blueprint.route("/citizens", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def citizens() -> str:
    """Find a citizen; the purpose comes first, since the results already name people."""
    me = staff.current()
    form = forms.CitizenSearchForm()
    found = None
    if form.validate_on_submit():
        found = citizens_module.search(
            me, form.query.data.strip(), form.purpose.data, form.detail.data
        )
        db.session.commit()
    return render_template(
        "backoffice/citizens.html",
        me=me,
        form=form,
        found=found,
        searched=form.is_submitted() and not form.errors,
        limit=citizens_module.LIMIT,
    )


def found_person(account_id: int) -> tuple[DataAccess, Account] | Response:
    """The person this staff member found in a search for a purpose (within the hold), with
    the row that lets this request read them; before such a search, the way to it."""
    grant = citizens_module.current_grant(staff.current(), account_id)
    if grant is None:
        flash(_("Find the person first, and say why you are looking for them."), "important")
        return redirect(url_for(".citizens"))
    access.admit(grant)
    person = db.session.get(Account, account_id)
    if person is None or person.deleted_at is not None:
        abort(404)
    return grant, person


@blueprint.get("/citizens/<int:account_id>")
def citizen(account_id: int) -> str | Response:
    me = staff.current()
    found = found_person(account_id)
    if isinstance(found, Response):
        return found
    grant = citizens_module.open_record(me, found[0])
    db.session.commit()
    seen = citizens_module.load(me, account_id)
    if seen is None:
        abort(404)
    lang = current_lang()
    return render_template(
        "backoffice/citizen.html",
        me=me,
        seen=seen,
        grant_purpose=grant.purpose_detail or PURPOSES.get(grant.purpose, grant.purpose),
        record_rows=[
            {"key": row.label, "value": row.value or _("Not held")} for row in seen.record
        ],
        statuses={one.id: citizens_module.status_of(one, lang) for one in seen.cases},
        history=_history(seen, lang),
    )


def _history(seen: citizens_module.Citizen, lang: str) -> list[dict[str, Any]]:
    """What happened with the agency across channels: case events and contacts, newest first."""
    from portal.backoffice.contacts import CHANNELS, OUTCOMES

    items = [
        (
            event.at,
            {
                "title": citizens_module.describe(event, seen, lang),
                "body": event.reason,
            },
        )
        for event in seen.history
    ] + [
        (
            contact.at,
            {
                "title": f"{CHANNELS[contact.channel]}: {contact.topic}",
                "body": f"{contact.summary}\n{OUTCOMES[contact.outcome]}",
                "href": url_for(".contact", contact_id=contact.id),
            },
        )
        for contact in seen.contacts
    ]
    items.sort(key=lambda item: item[0], reverse=True)
    return [
        {**shown, "datetime": at.isoformat(), "time_text": format_datetime(at, "medium")}
        for at, shown in items[:40]
    ]
