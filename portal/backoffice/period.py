"""The period the figures cover: the last 30, 90 or 365 days, or two dates typed in.

Days are whole days in the portal's time zone, first and last included, so "1 to 31
March" means what a supervisor in Villanueva means by it whatever the server's clock.
The form is sent with GET, so a period is a link that can be shared and bookmarked, and
the CSV export takes exactly the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

from procedures.forms import DateParts

#: Days back from today offered as links; the first is what the page opens with.
PRESETS = (90, 30, 365)
DATE_KEYS = tuple(
    f"{name}-{part}" for name in ("first", "last") for part in ("day", "month", "year")
)


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @classmethod
    def last_days(cls, days: int, today: date) -> Period:
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: midnight of the first day to midnight after the last."""
        start = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def months(self) -> tuple[date, date]:
        """The first days of the first and last months the period touches."""
        return self.first.replace(day=1), self.last.replace(day=1)

    def query(self) -> dict[str, str]:
        """The URL parameters that ask for this period."""
        values = {}
        for name, day in (("first", self.first), ("last", self.last)):
            values |= {f"{name}-day": str(day.day), f"{name}-month": str(day.month)}
            values[f"{name}-year"] = str(day.year)
        return values


class PeriodForm(FlaskForm):
    """Two dates in GOV.UK's date pattern. Sent with GET: no CSRF token (it changes
    nothing), and a wrong date comes back as typed with its error."""

    class Meta:
        csrf = False

    first = DateParts(_l("First day"), past=True)
    last = DateParts(_l("Last day"), past=True)

    def validate_first(self, field: DateParts) -> None:
        field.check(str(field.label.text), optional=False)

    def validate_last(self, field: DateParts) -> None:
        field.check(str(field.label.text), optional=False)
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError(_l("The last day must be the same as the first day or later"))


def choose(args: Mapping[str, str], today: date) -> tuple[PeriodForm, Period | None, int | None]:
    """The form as the page shows it, the period asked for (None when the dates typed are
    wrong: the form has the errors) and the preset chosen, if the period is one."""
    if any(key in args for key in DATE_KEYS):
        form = PeriodForm(formdata=args if hasattr(args, "getlist") else MultiDict(args))
        if not form.validate():
            return form, None, None
        return form, Period(form.first.data, form.last.data), None
    try:
        days = int(args.get("days", PRESETS[0]))
    except ValueError:
        days = PRESETS[0]
    days = days if days in PRESETS else PRESETS[0]
    period = Period.last_days(days, today)
    form = PeriodForm(
        formdata=None, data={"first": period.first.isoformat(), "last": period.last.isoformat()}
    )
    return form, period, days
