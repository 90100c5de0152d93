"""The agency's figures under ``/<lang>/staff/figures``: a page and the same as CSV.

For supervisors and administrators (a caseworker gets 403); each sees their own agency's
figures only, since the agency comes from their membership and from nothing in the URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, render_template, request
from flask_babel import format_number, format_percent
from werkzeug.wrappers import Response

from identity.models import utcnow
from portal.backoffice import blueprint, figures, figures_csv, period, staff
from portal.extensions import limiter
from procedures import abandonment
from procedures.views import current_lang


def _supervisor() -> staff.Staff:
    me = staff.current()
    if not me.may("supervisor"):
        abort(403)
    return me


def _chosen(now: datetime) -> tuple[period.PeriodForm, period.Period | None, int | None]:
    return period.choose(request.args, now.astimezone(abandonment.zone()).date())


@blueprint.get("/figures", endpoint="figures")
@limiter.limit("60 per minute")
def figures_page() -> str:
    me = _supervisor()
    now = utcnow()
    form, chosen, preset = _chosen(now)
    lang = current_lang()
    found = figures.compute(me.agency, chosen, lang, abandonment.zone(), now) if chosen else None
    return render_template(
        "backoffice/figures.html",
        me=me,
        form=form,
        figures=found,
        charts=_charts(found) if found else {},
        preset=preset,
        presets=period.PRESETS,
        query=chosen.query() if chosen else {},
        min_people=figures.MIN_PEOPLE,
        ratings=figures.RATINGS,
        zone=abandonment.zone().key,
    )


def _charts(found: figures.Figures) -> dict[str, list[dict[str, Any]]]:
    """The bars of the page's charts: each value also as the page writes it."""
    lines = found.procedures
    everyone = found.satisfaction_total
    return {
        "received": [
            _bar(line.label, line.measures.received, format_number(line.measures.received))
            for line in lines
        ],
        "deadline": [
            _bar(line.label, share, format_percent(share))
            for line in lines
            if (share := line.measures.within_deadline) is not None
        ],
        "ratings": [
            _bar(str(text), everyone.counts[value], format_number(everyone.counts[value]))
            for value, text in figures.RATINGS.items()
        ],
    }


def _bar(label: str, value: float, text: str) -> dict[str, Any]:
    return {"label": label, "value": value, "text": text}


@blueprint.get("/figures.csv", endpoint="figures_csv")
@limiter.limit("30 per minute")
def figures_csv_file() -> Response:
    me = _supervisor()
    now = utcnow()
    _form, chosen, _preset = _chosen(now)
    if chosen is None:
        abort(400)
    found = figures.compute(me.agency, chosen, current_lang(), abandonment.zone(), now)
    name = f"figures-{me.agency}-{chosen.first.isoformat()}-{chosen.last.isoformat()}.csv"
    return Response(
        figures_csv.render(found),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
