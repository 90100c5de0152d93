"""Appointments (cita previa): choose an office, a free time, confirm; then see, change or
cancel it, and take it to a calendar.

No step needs JavaScript: the free times are radios grouped by day, a week per page, and
every choice is a form posted and redirected to the next step's address, so the back
button and a reload always land on a page that makes sense. A slot in an address is
``20261126T0815Z`` (UTC); the pages show it on the office's clock.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, RadioField, SelectChoice
from wtforms.validators import InputRequired

from portal.extensions import db, limiter
from procedures import appointments, calendar, catalogue, offices
from procedures.definitions import Procedure
from procedures.models import Appointment
from procedures.offices import Office, Service
from procedures.views import appointments_blueprint as blueprint
from procedures.views import current_lang

SLOT_FORMAT = "%Y%m%dT%H%MZ"


class OfficeForm(FlaskForm):
    office = RadioField(validators=[InputRequired()], validate_choice=False)


class TimeForm(FlaskForm):
    slot = RadioField(validators=[InputRequired()], validate_choice=False)


class ConfirmForm(FlaskForm):
    #: Random per page view: posting the same page twice finds the booking it made.
    request_key = HiddenField()


def slot_token(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SLOT_FORMAT)


def _parse_slot(token: str) -> datetime | None:
    try:
        return datetime.strptime(token, SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _service(key: str) -> Service:
    service = offices.current().services.get(key)
    if service is None or not offices.current().offering(key):
        abort(404)
    return service


def _office(key: str, service: Service) -> Office:
    office = offices.current().offices.get(key)
    if office is None or service.key not in office.desks:
        abort(404)
    return office


def _procedure_for(service: str) -> Procedure | None:
    return next((p for p in catalogue.current() if p.appointment_service == service), None)


def _own(reference: str) -> Appointment:
    appointment = db.session.scalar(select(Appointment).where(Appointment.reference == reference))
    if appointment is None or appointment.account_id != current_user.id:
        abort(404)
    return appointment


def _parts(appointment: Appointment) -> tuple[Office, Service]:
    service = offices.current().services.get(appointment.service)
    office = offices.current().offices.get(appointment.office)
    if service is None or office is None:
        abort(404)  # an office since removed from offices.yaml
    return office, service


@blueprint.route("/")
@login_required
def index() -> str:
    """The citizen's appointments: coming ones first, then past and cancelled."""
    directory = offices.current()
    return render_template(
        "appointments/index.html",
        upcoming=appointments.upcoming(current_user),
        past=appointments.past(current_user),
        offices=directory.offices,
        services=[s for s in directory.services.values() if directory.offering(s.key)],
    )


@blueprint.route("/book/<service_key>", methods=["GET", "POST"])
@login_required
def choose_office(service_key: str) -> str | Response:
    service = _service(service_key)
    held = appointments.upcoming_for_service(current_user, service.key)
    if held is not None:
        office = _parts(held)[0]
        return render_template(
            "appointments/already.html", appointment=held, office=office, service=service
        )
    choices = offices.current().offering(service.key)
    if len(choices) == 1 and request.method == "GET":
        return redirect(url_for(".choose_time", service_key=service.key, office_key=choices[0].key))
    lang = current_lang()
    form = OfficeForm()
    form.office.label.text = _("Where do you want to be seen?")
    form.office.choices = [SelectChoice(o.key, o.name(lang)) for o in choices]
    form.office.validators[0].message = _("Choose an office")
    if form.validate_on_submit():
        if form.office.data not in {o.key for o in choices}:
            form.office.errors = [_("Choose an office")]
        else:
            return redirect(
                url_for(".choose_time", service_key=service.key, office_key=form.office.data)
            )
    return render_template(
        "appointments/office.html",
        form=form,
        service=service,
        offices=choices,
        procedure=_procedure_for(service.key),
    )


def _week_start(first: date, last: date) -> date:
    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = first
    return min(max(start, first), last)


def _time_page(
    form: TimeForm,
    office: Office,
    service: Service,
    action: str,
    back_url: str,
    week_url: str,
    appointment: Appointment | None = None,
) -> str:
    first = appointments.first_day(office)
    last = appointments.last_day(office)
    start = _week_start(first, last)
    days = appointments.free_days(office, service, start)
    end = start + timedelta(days=appointments.DAYS_PER_PAGE - 1)
    earlier = max(first, start - timedelta(days=appointments.DAYS_PER_PAGE))
    return render_template(
        "appointments/time.html",
        form=form,
        office=office,
        service=service,
        days=days,
        start=start,
        end=min(end, last),
        earlier_url=week_url + f"?from={earlier.isoformat()}" if start > first else None,
        later_url=week_url + f"?from={(end + timedelta(days=1)).isoformat()}"
        if end < last
        else None,
        action=action,
        back_url=back_url,
        appointment=appointment,
        slot_token=slot_token,
    )


def _time_form() -> TimeForm:
    form = TimeForm()
    form.slot.label.text = _("Choose a time")
    form.slot.validators[0].message = _("Choose a time")
    if request.args.get("taken"):
        form.slot.errors = [_("Someone has just booked that time. Choose another.")]
    return form


def _chosen(form: TimeForm, office: Office, service: Service) -> datetime | None:
    """The slot posted, if it can still be booked; else an error on the form."""
    if not form.validate_on_submit():
        return None
    moment = _parse_slot(form.slot.data or "")
    if moment is None or not appointments.is_offered(office, service, moment):
        form.slot.errors = [_("That time can no longer be booked. Choose another.")]
        return None
    return moment


@blueprint.route("/book/<service_key>/<office_key>", methods=["GET", "POST"])
@login_required
def choose_time(service_key: str, office_key: str) -> str | Response:
    service = _service(service_key)
    office = _office(office_key, service)
    form = _time_form()
    moment = _chosen(form, office, service)
    if moment is not None:
        return redirect(
            url_for(
                ".confirm", service_key=service.key, office_key=office.key, slot=slot_token(moment)
            )
        )
    several = len(offices.current().offering(service.key)) > 1
    procedure = _procedure_for(service.key)
    back = (
        url_for(".choose_office", service_key=service.key)
        if several
        else url_for("procedures.procedure", slug=procedure.slug)
        if procedure
        else url_for(".index")
    )
    here = url_for(".choose_time", service_key=service.key, office_key=office.key)
    return _time_page(form, office, service, here, back, here)


@blueprint.route("/book/<service_key>/<office_key>/<slot>", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per minute", methods=["POST"])
def confirm(service_key: str, office_key: str, slot: str) -> str | Response:
    service = _service(service_key)
    office = _office(office_key, service)
    moment = _parse_slot(slot)
    if moment is None:
        abort(404)
    time_url = url_for(".choose_time", service_key=service.key, office_key=office.key)
    form = ConfirmForm()
    if form.validate_on_submit():
        procedure = _procedure_for(service.key)
        try:
            appointment = appointments.book(
                current_user,
                office,
                service,
                moment,
                current_lang(),
                request_key=(form.request_key.data or "")[:64] or None,
                procedure_slug=procedure.slug if procedure else None,
            )
        except appointments.AlreadyBooked:
            return redirect(url_for(".choose_office", service_key=service.key))
        except (appointments.SlotTaken, appointments.SlotInvalid):
            return redirect(time_url + "?taken=1")
        return redirect(url_for(".booked", reference=appointment.reference))
    if not appointments.is_offered(office, service, moment):
        return redirect(time_url + "?taken=1")
    form.request_key.data = secrets.token_urlsafe(24)
    return _confirm_page(
        form,
        office,
        service,
        moment,
        time_url=time_url,
        office_url=url_for(".choose_office", service_key=service.key)
        if len(offices.current().offering(service.key)) > 1
        else None,
        action=url_for(".confirm", service_key=service.key, office_key=office.key, slot=slot),
    )


def _confirm_page(
    form: ConfirmForm,
    office: Office,
    service: Service,
    starts_at: datetime,
    time_url: str,
    office_url: str | None,
    action: str,
    **extra: object,
) -> str:
    """ "Check your appointment", for a new booking or a new time (``appointment=``)."""
    return render_template(
        "appointments/confirm.html",
        form=form,
        office=office,
        service=service,
        starts_at=starts_at,
        procedure=_procedure_for(service.key),
        back_url=time_url,
        time_url=time_url,
        office_url=office_url,
        action=action,
        **extra,
    )


@blueprint.route("/<reference>/booked")
@login_required
def booked(reference: str) -> str | Response:
    appointment = _own(reference)
    if not appointment.is_booked:
        return redirect(url_for(".detail", reference=reference))
    office, service = _parts(appointment)
    return render_template(
        "appointments/booked.html",
        appointment=appointment,
        office=office,
        service=service,
        procedure=_procedure_for(service.key),
    )


@blueprint.route("/<reference>/")
@login_required
def detail(reference: str) -> str:
    appointment = _own(reference)
    office, service = _parts(appointment)
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        office=office,
        service=service,
        procedure=_procedure_for(service.key),
        changeable=appointment.is_booked and appointment.starts_at > datetime.now(UTC),
    )


@blueprint.route("/<reference>/appointment.ics")
@login_required
def ics(reference: str) -> Response:
    appointment = _own(reference)
    response = make_response(calendar.for_appointment(appointment))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="cita-{reference}.ics"'
    return response


def _changeable(reference: str) -> tuple[Appointment, Office, Service]:
    appointment = _own(reference)
    if not appointment.is_booked or appointment.starts_at <= datetime.now(UTC):
        abort(redirect(url_for(".detail", reference=reference)))
    office, service = _parts(appointment)
    return appointment, office, service


@blueprint.route("/<reference>/change", methods=["GET", "POST"])
@login_required
def change(reference: str) -> str | Response:
    appointment, office, service = _changeable(reference)
    form = _time_form()
    moment = _chosen(form, office, service)
    if moment is not None:
        return redirect(url_for(".confirm_change", reference=reference, slot=slot_token(moment)))
    here = url_for(".change", reference=reference)
    return _time_page(
        form, office, service, here, url_for(".detail", reference=reference), here, appointment
    )


@blueprint.route("/<reference>/change/<slot>", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per minute", methods=["POST"])
def confirm_change(reference: str, slot: str) -> str | Response:
    appointment, office, service = _changeable(reference)
    moment = _parse_slot(slot)
    if moment is None:
        abort(404)
    change_url = url_for(".change", reference=reference)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            appointments.reschedule(appointment, office, service, moment)
        except (appointments.SlotTaken, appointments.SlotInvalid):
            return redirect(change_url + "?taken=1")
        return redirect(url_for(".booked", reference=reference))
    if not appointments.is_offered(office, service, moment):
        return redirect(change_url + "?taken=1")
    return _confirm_page(
        form,
        office,
        service,
        moment,
        time_url=change_url,
        office_url=None,
        action=url_for(".confirm_change", reference=reference, slot=slot),
        appointment=appointment,
    )


@blueprint.route("/<reference>/cancel", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per minute", methods=["POST"])
def cancel(reference: str) -> str | Response:
    appointment, office, service = _changeable(reference)
    form = ConfirmForm()
    if form.validate_on_submit():
        appointments.cancel(appointment)
        flash(_("Your appointment has been cancelled. We have sent you an email."), "success")
        return redirect(url_for(".detail", reference=reference))
    return render_template(
        "appointments/cancel.html",
        form=form,
        appointment=appointment,
        office=office,
        service=service,
    )
