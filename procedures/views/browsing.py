"""Finding a procedure: by topic, by life event, by agency and channel, or by searching."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from procedures import applications, appointments, catalogue, offices, search
from procedures.taxonomy import LIFE_EVENTS, TOPICS
from procedures.views import catalogue_blueprint as blueprint
from procedures.views import current_lang
from procedures.views.page_cache import for_visitors


def _sorted(procedures: list) -> list:
    lang = current_lang()
    return sorted(procedures, key=lambda p: search.fold(p.text(lang).title))


@blueprint.route("/")
@for_visitors
def index() -> str:
    """The catalogue: search, topics, life events; with a query or filters, the results."""
    query = (request.args.get("q") or "").strip()[:200]
    agency = request.args.get("agency") or ""
    channel = request.args.get("channel") or ""
    everything = catalogue.current()
    filtering = bool(query or agency or channel)
    results: list = []
    if filtering:
        results = (
            search.search(everything, query, current_lang()) if query else _sorted(list(everything))
        )
        if agency:
            results = [p for p in results if p.agency.key == agency]
        if channel:
            results = [p for p in results if channel in p.channels]
    return render_template(
        "procedures/index.html",
        query=query,
        agency=agency,
        channel=channel,
        filtering=filtering,
        results=results,
        agencies=sorted(
            everything.agencies.values(), key=lambda a: search.fold(a.name(current_lang()))
        ),
        topics=[(key, label) for key, label in TOPICS.items() if catalogue.by_topic(key)],
        life_events=[
            (key, label) for key, label in LIFE_EVENTS.items() if catalogue.by_life_event(key)
        ],
    )


@blueprint.route("/topics/<topic>")
@for_visitors
def topic(topic: str) -> str:
    if topic not in TOPICS:
        abort(404)
    return render_template(
        "procedures/list.html", heading=TOPICS[topic], procedures=_sorted(catalogue.by_topic(topic))
    )


@blueprint.route("/life-events/<event>")
@for_visitors
def life_event(event: str) -> str:
    if event not in LIFE_EVENTS:
        abort(404)
    return render_template(
        "procedures/list.html",
        heading=LIFE_EVENTS[event],
        procedures=_sorted(catalogue.by_life_event(event)),
    )


@blueprint.route("/<slug>")
@for_visitors
def procedure(slug: str) -> str:
    """The start page (GOV.UK's "start using a service" pattern)."""
    found = catalogue.get(slug)
    if found is None:
        abort(404)
    draft = None
    if current_user.is_authenticated and found.form is not None:
        draft = applications.current_draft(current_user, found)
    held = None
    if current_user.is_authenticated and found.appointment_service is not None:
        held = appointments.upcoming_for_service(current_user, found.appointment_service)
    return render_template(
        "procedures/procedure.html",
        procedure=found,
        draft=draft,
        held=held,
        held_office=offices.current().offices.get(held.office) if held else None,
    )
