"""The complaints queue and what staff do with a complaint: route it, reply (``complaints``)."""

from __future__ import annotations

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.audit import DataAccess
from portal.backoffice import blueprint, cases, complaints, forms, staff
from portal.backoffice.views import (
    back_to_case,
    filter_query,
    holding,
    inbox_page,
    opened,
    step_page,
)
from portal.extensions import db, limiter
from procedures import workflow


@blueprint.get("/complaints")
def complaints_queue() -> str | Response:
    me = staff.current()
    args = request.args
    unit = args.get("unit", "all")
    filters = cases.Filters(
        state="all" if args.get("state") == "all" else "open",
        overdue=args.get("overdue") == "1",
        workflow=complaints.WORKFLOW,
        unit=unit if unit in complaints.UNITS else "all",
    )
    found = inbox_page(me, filters)
    if isinstance(found, Response):
        return found
    return render_template(
        "backoffice/complaints.html",
        me=me,
        rows=found.rows,
        total=found.total,
        beyond_count=found.beyond_count,
        count_limit=cases.COUNT_LIMIT,
        overdue=found.overdue,
        before=found.previous,
        after=found.next,
        filters=filters,
        units=complaints.UNITS.items(),
        query=filter_query(),
    )


@blueprint.post("/cases/<reference>/route")
@limiter.limit("60 per minute")
@opened
def route(found: cases.StaffCase, _grant: DataAccess) -> Response:
    if not complaints.is_complaint(found):
        abort(404)
    holding(found)
    form = forms.route_form(complaints.units(staff.current().agency), found.unit)
    if not form.validate_on_submit():
        flash(_("Select the unit the case concerns"), "important")
        return back_to_case(found.reference)
    try:
        complaints.route(staff.current(), found, form.unit.data)
    except (ValueError, workflow.TransitionRefusedError):
        db.session.rollback()
        flash(_("The case has moved on since you opened this page. Check it again."), "important")
        return back_to_case(found.reference)
    db.session.commit()
    flash(_("The case is routed to %(unit)s.", unit=form.unit.data), "success")
    return back_to_case(found.reference)


@blueprint.route("/cases/<reference>/reply", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
@opened
def reply(found: cases.StaffCase, _grant: DataAccess) -> str | Response:
    if not complaints.is_complaint(found) or complaints.ANSWERED not in found.targets():
        abort(404)
    return step_page(
        found,
        "backoffice/reply.html",
        forms.ReplyForm(),
        lambda form: complaints.reply(staff.current(), found, form.text.data.strip()),
        _("Reply sent. The person has been notified."),
    )
