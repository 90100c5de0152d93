"""The back office's forms. Messages are lazy strings, in GOV.UK's "say what to do" style."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.audit import PURPOSES, ROLES
from portal.backoffice import contacts, decisions
from portal.i18n import LANGUAGES
from procedures.forms import DateParts

MESSAGE_MAX = 5000
DETAIL_MAX = 500


def _too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("Write no more than %(max)s characters", max=limit))


class PurposeForm(FlaskForm):
    purpose = RadioField(
        _l("Why are you opening this case?"),
        choices=[SelectChoice(key, text) for key, text in PURPOSES.items()],
        validate_choice=False,  # checked below, with our translated message
        validators=[InputRequired(_l("Select why you are opening this case"))],
    )
    detail = TextAreaField(_l("In your own words"), validators=[_too_long(DETAIL_MAX)])

    def validate_purpose(self, field: RadioField) -> None:
        if field.data not in PURPOSES:
            raise ValidationError(_l("Select why you are opening this case"))

    def validate_detail(self, field: TextAreaField) -> None:
        if self.purpose.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say why you are opening this case"))


class CitizenSearchForm(FlaskForm):
    query = StringField(
        _l("DNI or NIE, name, email or phone number"),
        validators=[
            DataRequired(_l("Enter the person's DNI or NIE, name, email or phone number")),
            _too_long(200),
        ],
    )
    purpose = RadioField(
        _l("Why are you looking for this person?"),
        choices=[SelectChoice(key, text) for key, text in PURPOSES.items()],
        validate_choice=False,  # checked below, with our translated message
        validators=[InputRequired(_l("Select why you are looking for this person"))],
    )
    detail = TextAreaField(_l("In your own words"), validators=[_too_long(DETAIL_MAX)])

    def validate_purpose(self, field: RadioField) -> None:
        if field.data not in PURPOSES:
            raise ValidationError(_l("Select why you are looking for this person"))

    def validate_detail(self, field: TextAreaField) -> None:
        if self.purpose.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say why you are looking for this person"))


class RequestForm(FlaskForm):
    message = TextAreaField(
        _l("What do you need from the applicant?"),
        validators=[
            DataRequired(_l("Write what the applicant must send or correct")),
            _too_long(MESSAGE_MAX),
        ],
    )


class NoteForm(FlaskForm):
    text = TextAreaField(
        _l("Internal note"),
        validators=[DataRequired(_l("Write the note")), _too_long(MESSAGE_MAX)],
    )


class DecideForm(FlaskForm):
    outcome = RadioField(
        _l("Decision"),
        choices=[SelectChoice(key, text) for key, text in decisions.OUTCOMES.items()],
        validate_choice=False,  # checked below, with our translated messages
        validators=[InputRequired(_l("Select the decision"))],
    )
    ground = RadioField(
        _l("Grounds"),
        choices=[
            SelectChoice(key, text)
            for grounds in decisions.GROUNDS.values()
            for key, text in grounds.items()
        ],
        validate_choice=False,
        validators=[InputRequired(_l("Select the grounds for the decision"))],
    )
    extra = TextAreaField(_l("More about the grounds"), validators=[_too_long(MESSAGE_MAX)])

    def validate_outcome(self, field: RadioField) -> None:
        if field.data not in decisions.GROUNDS:
            raise ValidationError(_l("Select the decision"))

    def validate_ground(self, field: RadioField) -> None:
        if not any(field.data in grounds for grounds in decisions.GROUNDS.values()):
            raise ValidationError(_l("Select the grounds for the decision"))
        outcome = self.outcome.data
        if outcome in decisions.GROUNDS and field.data not in decisions.GROUNDS[outcome]:
            raise ValidationError(_l("Select grounds that match the decision"))


class CloseForm(FlaskForm):
    reason = TextAreaField(_l("Why are you closing the case?"), validators=[_too_long(DETAIL_MAX)])


class AssignForm(FlaskForm):
    #: Choices are the agency's staff, set by the view; anything else is "select someone".
    to = SelectField(
        _l("Assign to"),
        validate_choice=False,
        validators=[InputRequired(_l("Select who will handle the case"))],
    )

    def validate_to(self, field: SelectField) -> None:
        if field.data not in {str(value) for value, _text in field.choices or []}:
            raise ValidationError(_l("Select who will handle the case"))


class CounterForm(FlaskForm):
    """Start an application with a citizen at the desk. The procedures are the agency's,
    set by the view; the language is the one the citizen wants to read it in."""

    procedure = RadioField(
        _l("Which procedure is the person applying for?"),
        validate_choice=False,  # checked below, with our translated message
        validators=[InputRequired(_l("Select the procedure"))],
    )
    language = RadioField(
        _l("Which language should the application, its receipt and its emails be in?"),
        choices=[
            SelectChoice(code, language.native_name, render_kw={"lang": code})
            for code, language in LANGUAGES.items()
        ],
        validate_choice=False,
        validators=[InputRequired(_l("Select the language of the application"))],
    )
    identity_checked = BooleanField(
        _l("I have seen the person's identity document, and they are here with me"),
        validators=[DataRequired(_l("Confirm that you have seen the person's identity document"))],
    )

    def validate_procedure(self, field: RadioField) -> None:
        if field.data not in {str(value) for value, *_rest in field.choices or []}:
            raise ValidationError(_l("Select the procedure"))

    def validate_language(self, field: RadioField) -> None:
        if field.data not in LANGUAGES:
            raise ValidationError(_l("Select the language of the application"))


class ContactForm(FlaskForm):
    """A call, visit, email or letter. The procedures are the agency's, set by the view."""

    channel = RadioField(
        _l("How did the person contact us?"),
        choices=[SelectChoice(key, text) for key, text in contacts.CHANNELS.items()],
        validate_choice=False,  # checked below, with our translated message
        validators=[InputRequired(_l("Select how the person contacted us"))],
    )
    topic = StringField(
        _l("What was it about?"),
        validators=[
            DataRequired(_l("Write what the contact was about")),
            _too_long(contacts.TOPIC_MAX),
        ],
    )
    procedure = SelectField(_l("Procedure"), validate_choice=False)
    reference = StringField(_l("Case reference"), validators=[_too_long(20)])
    summary = TextAreaField(
        _l("What was said"),
        validators=[
            DataRequired(_l("Write what was said")),
            _too_long(contacts.SUMMARY_MAX),
        ],
    )
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(key, text) for key, text in contacts.OUTCOMES.items()],
        validate_choice=False,
        validators=[InputRequired(_l("Select the outcome"))],
    )
    follow_up_on = DateParts(_l("Come back to them by"), future=True)

    def validate_channel(self, field: RadioField) -> None:
        if field.data not in contacts.CHANNELS:
            raise ValidationError(_l("Select how the person contacted us"))

    def validate_procedure(self, field: SelectField) -> None:
        if field.data and field.data not in {str(v) for v, *_rest in field.choices or []}:
            raise ValidationError(_l("Select one of your agency's procedures, or none"))

    def validate_outcome(self, field: RadioField) -> None:
        if field.data not in contacts.OUTCOMES:
            raise ValidationError(_l("Select the outcome"))

    def validate_follow_up_on(self, field: DateParts) -> None:
        field.check(str(field.label.text), optional=self.outcome.data != "follow_up")


class RouteForm(FlaskForm):
    #: Choices are the agency's units, set by the view.
    unit = SelectField(
        _l("Route to the unit"),
        validate_choice=False,
        validators=[InputRequired(_l("Select the unit the case concerns"))],
    )

    def validate_unit(self, field: SelectField) -> None:
        if field.data not in {str(value) for value, *_rest in field.choices or []}:
            raise ValidationError(_l("Select the unit the case concerns"))


def route_form(units: list[str], current: str | None) -> RouteForm:
    form = RouteForm(unit=current or "")
    form.unit.choices = [("", _l("Select a unit"))] + [(unit, unit) for unit in units]
    return form


class ReplyForm(FlaskForm):
    text = TextAreaField(
        _l("Your reply"),
        validators=[DataRequired(_l("Write your reply")), _too_long(MESSAGE_MAX)],
    )


class OpinionRequestForm(FlaskForm):
    #: Choices are the agency's other units, set by the view.
    unit = SelectField(
        _l("Which unit do you want an opinion from?"),
        validate_choice=False,
        validators=[InputRequired(_l("Select the unit"))],
    )
    question = TextAreaField(
        _l("What do you want to know?"),
        validators=[DataRequired(_l("Write your question")), _too_long(MESSAGE_MAX)],
    )

    def validate_unit(self, field: SelectField) -> None:
        if field.data not in {str(value) for value, *_rest in field.choices or []}:
            raise ValidationError(_l("Select the unit"))


class OpinionAnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your unit's opinion"),
        validators=[DataRequired(_l("Write your unit's opinion")), _too_long(MESSAGE_MAX)],
    )


class MemberChangeForm(FlaskForm):
    unit = StringField(
        _l("Unit"),
        validators=[DataRequired(_l("Enter the unit the person works in")), _too_long(120)],
    )
    role = RadioField(
        _l("Role"),
        choices=[SelectChoice(key, text) for key, text in ROLES.items()],
        validate_choice=False,
        validators=[InputRequired(_l("Select a role"))],
    )

    def validate_role(self, field: RadioField) -> None:
        if field.data not in ROLES:
            raise ValidationError(_l("Select a role"))


class MemberForm(MemberChangeForm):
    email = EmailField(
        _l("Email address of their account"),
        validators=[
            DataRequired(_l("Enter the email address of the person's account")),
            _too_long(254),
        ],
    )
