"""The provider's endpoints: discovery, keys, authorize (with its consent page), token,
userinfo, revocation, introspection, logout, and the citizen's connected services.

The machine endpoints (token, userinfo, revoke, introspect) are called by
agencies' servers, not browsers: they have no CSRF token and answer JSON.
``/oidc/authorize`` only picks the language (``ui_locales``, the citizen's,
the browser's) and moves to ``/<lang>/account/connect``, so every page the
citizen sees there has its language in the URL like the rest of the site.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from identity import events, signin
from identity.events import EventKind
from identity.forms import ConfirmForm, ConsentForm
from identity.models import Account
from identity.oidc import authorize, claims, connections, keys, logout
from identity.oidc.authorize import Step
from identity.oidc.server import find_access_token, issuer, server
from portal import security
from portal.extensions import csrf, db, limiter
from portal.i18n import LANGUAGES, negotiate_language

blueprint = Blueprint("oidc", __name__)

ID_TOKEN_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid")
#: What the citizen reads for the errors an agency's bad link can cause.
BAD_LINK = "invalid_request"


def _machine(view: Any) -> Any:
    """An endpoint for agencies' servers: no CSRF token (they hold no form of ours)."""
    return csrf.exempt(view)


# Discovery and keys --------------------------------------------------------


@blueprint.get("/.well-known/openid-configuration")
def discovery() -> Response:
    base = issuer()
    document = {
        "issuer": base,
        "authorization_endpoint": f"{base}/oidc/authorize",
        "token_endpoint": f"{base}/oidc/token",
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "jwks_uri": f"{base}/oidc/jwks",
        "revocation_endpoint": f"{base}/oidc/revoke",
        "introspection_endpoint": f"{base}/oidc/introspect",
        "end_session_endpoint": f"{base}/oidc/logout",
        "scopes_supported": list(claims.SCOPES),
        "claims_supported": [*claims.CLAIMS, *ID_TOKEN_CLAIMS],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(claims.ACR_VALUES),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": list(LANGUAGES),
        "claims_locales_supported": list(LANGUAGES),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "authorization_response_iss_parameter_supported": False,
    }
    db.session.commit()
    response = jsonify(document)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@blueprint.get("/oidc/jwks")
def jwks() -> Response:
    document = keys.jwks()
    db.session.commit()  # a fresh install makes its first keys here
    response = jsonify(document)
    response.cache_control.public = True
    response.cache_control.max_age = int(keys.JWKS_MAX_AGE.total_seconds())
    return response


# Authorization ---------------------------------------------------------------


@blueprint.get("/oidc/authorize")
def authorize_entry() -> Response:
    """Choose the language of the pages that follow, keep every parameter as it came."""
    lang = _language(request.args.get("ui_locales"))
    query = request.query_string.decode()
    return redirect(url_for("oidc.connect", lang=lang) + (f"?{query}" if query else ""))


def _language(ui_locales: str | None) -> str:
    """The client's ``ui_locales`` (``ca-ES`` counts as ``ca``), else the citizen's language,
    else the browser's."""
    for tag in (ui_locales or "").split():
        if tag.split("-")[0] in LANGUAGES:
            return tag.split("-")[0]
    if current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return negotiate_language()


def _error_page(code: str) -> tuple[str, int]:
    """The request cannot go back to the client (unknown client or redirect URI): say so here,
    with the code the citizen can give the service's help desk."""
    return render_template("identity/oidc/error.html", code=code), 400


def _with_form_action(response: Any, *uris: str) -> Any:
    """Let this page's forms lead (through our redirect) to the client's redirect URI:
    Chromium applies ``form-action`` to every redirect a form submission follows."""
    origins = {f"{urlsplit(uri).scheme}://{urlsplit(uri).netloc}" for uri in uris if uri}
    response.headers["Content-Security-Policy"] = security.policy(form_action=sorted(origins))
    return response


def _deliver(response: Response, came_from_form: bool) -> Response | str:
    """Hand the code (or the error) to the client. A 302 when the agency's link brought the
    citizen here; after one of our forms, a page that moves on by itself, since the form's
    ``form-action`` would stop a redirect to another site."""
    if not came_from_form or response.status_code != 302:
        return response
    target = response.headers["Location"]
    page = render_template("identity/oidc/continue.html", target=target)
    return _with_form_action(make_response(page), target)


def _away(step: Step, account: Account | None) -> Response:
    """Send the citizen to sign in, confirm or step up, and back here afterwards."""
    params = request.args.to_dict()
    params["resume"] = authorize.resume_token()
    back = url_for("oidc.connect") + "?" + urlencode(params)
    if step == Step.SIGN_IN:
        return redirect(url_for("identity.sign_in", next=back))
    if step == Step.REAUTHENTICATE:
        return redirect(url_for("identity.reauthenticate", next=back))
    assert account is not None  # noqa: S101 - a step-up has a signed-in citizen
    signin.begin_pending(account, signin.REAUTHENTICATE, back)
    return redirect(url_for("identity.second_factor_key"))


@blueprint.route("/<lang:lang>/account/connect", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
def connect() -> Any:
    account = current_user if current_user.is_authenticated else None
    try:
        grant = server.get_consent_grant(end_user=account)
        asked = authorize.Request.from_params(request.args.to_dict(), grant.request.scope)
    except authorize.BadParameterError as bad:
        error = InvalidRequestError(str(bad), redirect_uri=request.args.get("redirect_uri"))
        error.state = request.args.get("state")
        return server.handle_error_response(None, error)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)
        return _error_page(error.error)
    except ValueError:
        # Authlib quotes a bad response_type or redirect_uri in its error description, and
        # refuses to when it holds what RFC 6749 forbids there (non-ASCII, quotes): the
        # link is malformed, and cannot go back to a redirect URI nobody checked.
        return _error_page(BAD_LINK)
    client = grant.request.client
    redirect_uri = grant.request.payload.redirect_uri
    resumed = authorize.resumed_at(request.args.get("resume"))
    account_session = signin.current_session()
    consent = authorize.consent_for(account, client) if account is not None else None
    step = authorize.next_step(asked, account, account_session, consent, resumed)
    # Straight after one of our own forms (sign-in, a code), the hand-over needs a page; after
    # the consent form it can be a redirect, because that page allowed the client's origin.
    via_page = resumed is not None and request.method == "GET"

    def refuse(code: str) -> Any:
        error = OAuth2Error(error=code, redirect_uri=redirect_uri)
        error.state = grant.request.payload.state
        return _deliver(server.handle_error_response(None, error), via_page)

    if "none" in asked.prompts and step != Step.GRANT:
        return refuse(authorize.SILENT_ERRORS[step])
    if step in (Step.SIGN_IN, Step.REAUTHENTICATE, Step.STEP_UP):
        return _away(step, account)
    form = ConsentForm()
    if request.method == "POST" and form.validate_on_submit():
        decision = request.form.get("decision")
        if decision == "deny" or step == Step.UNMET:
            code = "unmet_authentication_requirements" if step == Step.UNMET else "access_denied"
            return refuse(code)
        if decision == "allow" and step == Step.CONSENT:
            authorize.record_consent(account, client, asked.scopes, bool(form.remember.data))
            events.record(account, EventKind.SERVICE_CONNECTED, name=client.name)
            step = Step.GRANT
    if step == Step.GRANT:
        response = server.create_authorization_response(grant_user=account, grant=grant)
        db.session.commit()
        return _deliver(response, via_page)
    template = "identity/oidc/unmet.html" if step == Step.UNMET else "identity/oidc/consent.html"
    page = render_template(
        template,
        form=form,
        client=client,
        shared=claims.shared(account, asked.scopes),
    )
    return _with_form_action(make_response(page), redirect_uri)


# Tokens and claims -----------------------------------------------------------


@blueprint.post("/oidc/token")
@_machine
def token() -> Response:
    response = server.create_token_response()
    # Commit whatever the outcome: a spent code or refresh token, a revoked family and a
    # spent client assertion must stay spent even when the request fails.
    db.session.commit()
    return response


@blueprint.route("/oidc/userinfo", methods=["GET", "POST"])
@_machine
def userinfo() -> Response:
    """Claims for the access token's scopes, as the citizen consented to them."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    row = find_access_token(value.strip()) if scheme.lower() == "bearer" else None
    account = db.session.get(Account, row.account_id) if row is not None else None
    if row is None or account is None or not account.is_active:
        response = jsonify(error="invalid_token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    scopes = row.scope.split()
    body = {
        "sub": claims.subject(account, row.client.sector, row.client.subject_type),
        **claims.claims_for(account, scopes),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/oidc/revoke")
@_machine
def revoke() -> Response:
    response = server.create_endpoint_response("revocation")
    db.session.commit()
    return response


@blueprint.post("/oidc/introspect")
@_machine
def introspect() -> Response:
    response = server.create_endpoint_response("introspection")
    db.session.commit()
    return response


# Logout ----------------------------------------------------------------------


@blueprint.route("/oidc/logout", methods=["GET", "POST"])
@_machine
def end_session() -> Any:
    """RP-initiated logout: straight through when the hint names this very session,
    otherwise the citizen confirms on a page in their language."""
    params = request.values.to_dict()
    lang = _language(params.get("ui_locales"))
    query = urlencode(params)
    return redirect(url_for("oidc.sign_out", lang=lang) + (f"?{query}" if query else ""))


@blueprint.route("/<lang:lang>/account/connect/sign-out", methods=["GET", "POST"])
def sign_out() -> Any:
    params = request.args.to_dict()
    hint = logout.read_hint(params.get("id_token_hint"))
    client = hint.client if hint is not None else None
    if client is None and params.get("client_id"):
        client = logout.query_client(params["client_id"])
    if (
        hint is not None
        and params.get("client_id")
        and params["client_id"] != hint.client.client_id
    ):
        return _error_page(BAD_LINK)
    target, bad_target = logout.post_logout_target(
        client, params.get("post_logout_redirect_uri"), params.get("state")
    )
    if bad_target:
        return _error_page(BAD_LINK)
    account_session = signin.current_session()
    form = ConfirmForm()
    confirmed = request.method == "POST" and form.validate_on_submit()
    if account_session is not None and not confirmed:
        matches = hint is not None and logout.hint_matches(hint, current_user, account_session.id)
        if not matches:
            page = render_template("identity/oidc/sign_out.html", form=form, client=client)
            return _with_form_action(make_response(page), target or "")
    if account_session is not None:
        account, session_id = current_user._get_current_object(), account_session.id
        signin.sign_out()
        db.session.commit()
        logout.session_ended(account, session_id)
    if target:
        return redirect(target)
    return redirect(url_for("oidc.signed_out"))


@blueprint.get("/<lang:lang>/account/signed-out")
def signed_out() -> str:
    return render_template("identity/oidc/signed_out.html")


# Connected services ------------------------------------------------------------


@blueprint.get("/<lang:lang>/account/connected-services")
@login_required
def connected_services() -> str:
    return render_template(
        "identity/oidc/connected_services.html",
        rows=connections.for_account(current_user),
        form=ConfirmForm(),
    )


@blueprint.post("/<lang:lang>/account/connected-services/<int:consent_id>/disconnect")
@login_required
def disconnect(consent_id: int) -> Response:
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    name = connections.disconnect(current_user, consent_id)
    if name is None:
        abort(404)
    db.session.commit()
    flash(_("%(name)s can no longer use your data.", name=name), "success")
    return redirect(url_for("oidc.connected_services"))
