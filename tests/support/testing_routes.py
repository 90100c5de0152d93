"""Routes that exist only in tests: they trigger each error page and show every component.

They are registered by the test fixtures, never by ``create_app``, so they are
not part of the portal (and not in the route inventory), but the error pages
and component examples they render are the real ones.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_wtf import FlaskForm
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
