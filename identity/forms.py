"""The identity forms. Every message is a lazy string, translated when the page renders.

Messages follow the GOV.UK error-message style: say what to do, not what is
wrong in the abstract ("Enter your email address", not "Field required").
"""

from __future__ import annotations

from babel.dates import get_timezone_location
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from portal.i18n import LANGUAGES

EMAIL_REQUIRED = _l("Enter your email address")
EMAIL_FORMAT = _l("Enter an email address in the correct format, like name@example.com")

#: Time zones offered in settings; Spain's two first. Names come from Babel, translated.
TIME_ZONES = (
    "Europe/Madrid",
    "Atlantic/Canary",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Bucharest",
    "Africa/Casablanca",
    "Africa/Algiers",
    "America/Bogota",
    "America/Buenos_Aires",
    "America/Caracas",
    "America/Lima",
    "America/Mexico_City",
    "America/New_York",
    "America/Santiago",
    "Asia/Shanghai",
)


def _email_field(label: object) -> EmailField:
    return EmailField(
        label,
        validators=[
            DataRequired(EMAIL_REQUIRED),
            Email(EMAIL_FORMAT),
            Length(max=254, message=EMAIL_FORMAT),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def _name_field(label: object, required: object) -> StringField:
    """The name a citizen gives one of their sign-in methods ("Work laptop")."""
    return StringField(
        label,
        validators=[
            InputRequired(required),
            Length(max=100, message=_l("Name must be 100 characters or fewer")),
        ],
    )


class CreateAccountForm(FlaskForm):
    email = _email_field(_l("Email address"))
    password = PasswordField(
        _l("Create a password"), validators=[InputRequired(_l("Create a password"))]
    )


class SignInForm(FlaskForm):
    email = _email_field(_l("Email address"))
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password"))])


class PasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password"))])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(_l("Enter a new password"))]
    )


class EmailForm(FlaskForm):
    email = _email_field(_l("Email address"))


class NewEmailForm(FlaskForm):
    email = _email_field(_l("New email address"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from your app"),
        validators=[InputRequired(_l("Enter the 6-digit code from your app"))],
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"), validators=[InputRequired(_l("Enter one of your recovery codes"))]
    )


class ChooseMethodForm(FlaskForm):
    method = RadioField(
        _l("How do you want to confirm it is you when you sign in?"),
        choices=[
            SelectChoice("passkey", _l("A passkey on this device or on your phone")),
            SelectChoice("security-key", _l("A security key")),
            SelectChoice("authenticator-app", _l("An authenticator app")),
        ],
        validators=[InputRequired(_l("Select how you want to confirm it is you"))],
    )


class AuthenticatorAppForm(FlaskForm):
    name = _name_field(_l("Name for this app"), _l("Enter a name for this app"))
    code = StringField(
        _l("Code from your app"),
        validators=[InputRequired(_l("Enter the 6-digit code from your app"))],
    )


class WebAuthnRegistrationForm(FlaskForm):
    name = _name_field(_l("Name"), _l("Enter a name"))
    credential = HiddenField()


class WebAuthnForm(FlaskForm):
    """The browser's answer to a WebAuthn challenge, filled in by ``static/js/webauthn.js``."""

    credential = HiddenField()


class RenameForm(FlaskForm):
    name = _name_field(_l("Name"), _l("Enter a name"))


class ConfirmForm(FlaskForm):
    """A form with only its button (and CSRF token)."""


class SavedCodesForm(FlaskForm):
    saved = BooleanField(_l("I have saved my recovery codes somewhere safe"))

    def validate_saved(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError(_l("Confirm that you have saved your recovery codes"))


class DeleteAccountForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand that my account will be deleted and I will not be able to sign in with it")
    )

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError(_l("Confirm that you want to delete your account"))


class PreferencesForm(FlaskForm):
    language = RadioField(
        _l("Language for emails and for when you sign in"),
        # Each language named in itself, marked with its own lang (WCAG 3.1.2).
        choices=[
            SelectChoice(
                code, language.native_name, render_kw={"lang": code, "dir": language.direction}
            )
            for code, language in LANGUAGES.items()
        ],
        validators=[InputRequired(_l("Select a language"))],
    )
    time_zone = SelectField(_l("Time zone"), validators=[InputRequired(_l("Select a time zone"))])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        locale = get_locale()
        self.time_zone.choices = [
            SelectChoice(zone, get_timezone_location(zone, locale=locale, return_city=True))
            for zone in TIME_ZONES
        ]


class ConsentForm(FlaskForm):
    """Share or not with an agency. Two submit buttons, ``decision=allow`` or ``deny``."""

    remember = BooleanField(_l("Remember my choice for this service"))
