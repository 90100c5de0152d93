"""Agencia Tributaria de demostración: a third-party site that signs citizens in through
Portal Ciudadano with OpenID Connect (authorization code flow with PKCE).

It is deliberately what an agency would write with off-the-shelf Authlib, so that it shows
what the portal asks of an integrator: exact redirect URIs, PKCE S256, state and nonce, an
ID token checked against the portal's JWKS, a check of the assurance level actually used
(``acr``), RP-initiated logout and back-channel logout.

Run it from the repository root with ``make agency-demo`` (portal and agency together), or
``flask --app examples.agency.app run --port 5001`` next to a running portal.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError

from examples.agency.backchannel import (
    InvalidLogoutToken,
    KeysUnavailable,
    LogoutRegistry,
    validate_logout_token,
)

SCOPES = "openid profile email citizen_id"

ACR_MFA = "urn:portal-ciudadano:acr:mfa"
ACR_PHISHING_RESISTANT = "urn:portal-ciudadano:acr:phishing-resistant"
#: The levels the agency can ask for, weakest first: a sign-in at a stronger level than the
#: one asked for is fine, a weaker one is not.
ACR_LEVELS = (ACR_MFA, ACR_PHISHING_RESISTANT)
LEVELS_BY_NAME = {"mfa": ACR_MFA, "phishing-resistant": ACR_PHISHING_RESISTANT}
ACR_NAMES = {
    ACR_MFA: "Doble factor: contraseña y un segundo factor",
    ACR_PHISHING_RESISTANT: "Resistente a la suplantación: clave de acceso (passkey)",
}
#: Authentication method references (RFC 8176) the portal may report in ``amr``.
AMR_NAMES = {
    "pwd": "contraseña",
    "otp": "código de un solo uso",
    "mfa": "varios factores",
    "hwk": "clave criptográfica en un dispositivo",
    "swk": "clave criptográfica en software",
    "user": "verificación de la persona en el dispositivo",
    "pin": "PIN",
    "fpt": "huella dactilar",
    "face": "reconocimiento facial",
}
TIME_CLAIMS = frozenset({"iat", "exp", "auth_time", "nbf", "updated_at"})

#: Friendly explanations of the error codes a citizen is most likely to meet.
ERROR_EXPLANATIONS = {
    "access_denied": "Ha cancelado la identificación, o no ha autorizado a la Agencia "
    "a recibir sus datos.",
    "login_required": "Portal Ciudadano necesita que vuelva a identificarse.",
    "consent_required": "Portal Ciudadano necesita su autorización para compartir sus datos.",
    "interaction_required": "Portal Ciudadano necesita que complete un paso más.",
    "unmet_authentication_requirements": "No ha sido posible identificarse con el nivel "
    "de seguridad pedido.",
    "temporarily_unavailable": "Portal Ciudadano no está disponible en este momento.",
    "server_error": "Portal Ciudadano ha tenido un problema.",
    "mismatching_state": "La respuesta no corresponde a ninguna identificación iniciada "
    "en este navegador: quizá ha recargado la página o ha usado un enlace antiguo.",
    "insufficient_acr": "Se ha identificado con un nivel de seguridad inferior al que "
    "pide este trámite.",
}

#: The browser session holds the ID token and claims, so it must not outlive a working day.
SESSION_LIFETIME = timedelta(hours=8)


class SignInRefused(Exception):
    """The portal answered, but not with a sign-in this agency can accept."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class ProviderUnavailable(Exception):
    """The portal cannot be reached, or its discovery document cannot be trusted."""


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read the settings an operator changes; each default matches the portal's demo data."""
    return {
        "PORTAL_URL": environ.get("PORTAL_URL", "http://localhost:5000"),
        "AGENCY_URL": environ.get("AGENCY_URL", "http://localhost:5001"),
        "AGENCY_CLIENT_ID": environ.get("AGENCY_CLIENT_ID", "demo-agency"),
        "AGENCY_CLIENT_SECRET": environ.get(
            "AGENCY_CLIENT_SECRET", "demo-agency-secret-not-for-production"
        ),
        # A fresh key per process is fine for a demo: a restart only signs everyone out.
        "SECRET_KEY": environ.get("AGENCY_SECRET_KEY") or secrets.token_hex(32),
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the agency site; ``config`` overrides the environment (the tests use it)."""
    app = Flask(__name__)
    app.config.update(settings_from_environment(os.environ))
    app.config.update(
        # Browsers do not separate cookies by port: on localhost the portal's "session"
        # cookie would overwrite ours, and ours the portal's, without a name of our own.
        SESSION_COOKIE_NAME="agencia_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax keeps the cookie on the top-level redirect back from the portal, and off
        # cross-site POSTs, which is what makes the form-less POST /logout safe.
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        HTTP_TIMEOUT=10,
    )
    app.config.update(config or {})
    app.config["PORTAL_URL"] = app.config["PORTAL_URL"].rstrip("/")
    app.config["AGENCY_URL"] = app.config["AGENCY_URL"].rstrip("/")
    app.config.setdefault("SESSION_COOKIE_SECURE", app.config["AGENCY_URL"].startswith("https://"))

    oauth = OAuth(app)
    oauth.register(
        "portal_ciudadano",
        client_id=app.config["AGENCY_CLIENT_ID"],
        client_secret=app.config["AGENCY_CLIENT_SECRET"],
        server_metadata_url=f"{app.config['PORTAL_URL']}/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": app.config["HTTP_TIMEOUT"],
        },
    )
    app.extensions["agency_oauth"] = oauth
    app.extensions["agency_logouts"] = LogoutRegistry(
        app.permanent_session_lifetime.total_seconds()
    )

    app.template_filter("claim_value")(format_claim_value)
    app.before_request(end_session_ended_at_portal)
    app.after_request(add_security_headers)
    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/login", view_func=login)
    app.add_url_rule("/callback", view_func=callback)
    app.add_url_rule("/logout", view_func=logout, methods=["POST"])
    app.add_url_rule("/backchannel-logout", view_func=backchannel_logout, methods=["POST"])
    return app


def portal_client() -> FlaskOAuth2App:
    """The Authlib client for the portal registered on the current app."""
    return current_app.extensions["agency_oauth"].create_client("portal_ciudadano")


def provider_metadata() -> dict[str, Any]:
    """Load the discovery document, refusing one that names another issuer.

    OpenID Connect Discovery requires the ``issuer`` in the document to be exactly the URL
    it was fetched from; without the check, whoever could alter the document could make
    us accept their tokens. Authlib then validates every ID token's ``iss`` against it.
    """
    try:
        metadata = portal_client().load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    expected = current_app.config["PORTAL_URL"]
    if str(metadata.get("issuer", "")).rstrip("/") != expected:
        raise ProviderUnavailable(
            f"El documento de descubrimiento anuncia el emisor {metadata.get('issuer')!r}, "
            f"no {expected!r}."
        )
    return metadata


def redirect_uri() -> str:
    """The callback URL, built from AGENCY_URL rather than from the request.

    The portal compares it character by character with the registered one, so it must not
    change with the Host header (localhost or 127.0.0.1, a proxy in front).
    """
    return f"{current_app.config['AGENCY_URL']}/callback"


def home() -> str | Response:
    """Signed out: explain and offer to sign in. Signed in: show what the portal told us."""
    if request.args.get("state"):
        # Back from the portal's end-session endpoint (post_logout_redirect_uri).
        try:
            portal_client().validate_logout_response()
        except AuthlibBaseError:
            pass  # an unknown or repeated state: the local session is gone anyway
        else:
            flash("Ha cerrado la sesión en la Agencia y en Portal Ciudadano.")
        return redirect(url_for("home"))
    if "id_claims" not in session:
        return render_template("home.html")
    acr = session["id_claims"].get("acr")
    return render_template(
        "account.html",
        id_claims=session["id_claims"],
        userinfo=session.get("userinfo", {}),
        acr=acr,
        acr_name=ACR_NAMES.get(acr, "Nivel no reconocido por la Agencia"),
        amr=[(method, AMR_NAMES.get(method)) for method in session["id_claims"].get("amr", [])],
        can_step_up=acr != ACR_PHISHING_RESISTANT,
    )


def login() -> Response | tuple[str, int]:
    """Send the browser to the portal's authorization endpoint.

    Authlib adds ``state`` and ``nonce`` and, with ``code_challenge_method`` set, a PKCE
    S256 challenge, keeping the verifier in the session for the callback.
    """
    level = request.args.get("level", "mfa")
    if level not in LEVELS_BY_NAME:
        abort(400)
    acr = LEVELS_BY_NAME[level]
    try:
        provider_metadata()
    except ProviderUnavailable as error:
        return unavailable_page(error)
    session["requested_acr"] = acr  # the callback checks the acr that comes back against it
    return portal_client().authorize_redirect(redirect_uri(), acr_values=acr)


def callback() -> Response | tuple[str, int]:
    """Finish the sign-in: exchange the code, validate the ID token, fetch userinfo.

    Every failure ends on the error page with its code and description, so the citizen
    knows what happened and the integrator can see why: status 400 for an error the portal
    sent back (``?error=access_denied``…) or a response that does not validate, 403 for a
    sign-in below the level asked for, 502 for a malformed answer, 503 when the portal
    cannot be reached.
    """
    if "error" in request.args:
        return sign_in_error_page(
            request.args["error"], request.args.get("error_description", ""), status=400
        )
    try:
        provider_metadata()
    except ProviderUnavailable as error:
        return unavailable_page(error)
    client = portal_client()
    try:
        # Checks state, sends the PKCE verifier and the client credentials (HTTP Basic),
        # then validates the ID token: RS256 signature against the JWKS, iss, aud, exp,
        # iat, nonce and at_hash.
        token = client.authorize_access_token()
        id_claims = dict(token.get("userinfo") or {})
        if not id_claims:
            raise SignInRefused("invalid_response", "La respuesta del portal no trae ID token.")
        # acr_values was a request, not a guarantee: check the level the portal reports,
        # before asking for any personal data.
        requested = session.get("requested_acr", ACR_MFA)
        if not meets_level(id_claims.get("acr"), requested):
            raise SignInRefused(
                "insufficient_acr",
                f"El portal ha confirmado el nivel {id_claims.get('acr')!r}, inferior al "
                f"pedido ({requested!r}).",
                status=403,
            )
        userinfo = dict(client.userinfo(token=token))
        # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
        if userinfo.get("sub") != id_claims.get("sub"):
            raise SignInRefused(
                "invalid_userinfo", "userinfo no describe a la persona del ID token."
            )
    except SignInRefused as refusal:
        return sign_in_error_page(refusal.error, refusal.description, status=refusal.status)
    except AuthlibBaseError as error:
        return sign_in_error_page(error.error, error.description or "", status=400)
    except JoseError as error:
        return sign_in_error_page("invalid_id_token", error.description, status=400)
    except requests.HTTPError as error:
        return sign_in_error_page("invalid_response", str(error), status=502)
    except ValueError as error:  # a response body that is not the JSON expected
        return sign_in_error_page("invalid_response", str(error), status=502)
    except requests.RequestException as error:
        return unavailable_page(error)

    # A fresh session for the signed-in citizen: nothing from before the sign-in survives.
    session.clear()
    session.permanent = True
    session.update(
        id_token=token["id_token"],  # kept only as id_token_hint for the logout
        id_claims=id_claims,
        userinfo=userinfo,
        sid=id_claims.get("sid"),
        sub=id_claims["sub"],
        signed_in_at=time.time(),
    )
    # The access token is not kept: the agency needed it only for this one userinfo call.
    return redirect(url_for("home"))


def meets_level(acr: object, requested: str) -> bool:
    """Whether the level the portal reports is at least the one that was asked for."""
    if acr not in ACR_LEVELS or requested not in ACR_LEVELS:
        return False
    return ACR_LEVELS.index(acr) >= ACR_LEVELS.index(requested)


def logout() -> Response:
    """RP-initiated logout: forget the citizen here, then ask the portal to end its session.

    The local session is cleared first, so the citizen is signed out of the agency even if
    the portal cannot be reached. ``id_token_hint`` tells the portal whose session to end
    without a confirmation page; the ``state`` comes back to the home page.
    """
    id_token = session.get("id_token")
    session.clear()
    if not id_token:
        return redirect(url_for("home"))
    try:
        provider_metadata()
        return portal_client().logout_redirect(
            post_logout_redirect_uri=f"{current_app.config['AGENCY_URL']}/",
            id_token_hint=id_token,
        )
    except (ProviderUnavailable, RuntimeError):
        flash(
            "Ha cerrado la sesión en la Agencia. No se ha podido contactar con Portal "
            "Ciudadano: cierre allí la sesión si usa un equipo compartido."
        )
        return redirect(url_for("home"))


def backchannel_logout() -> tuple[Response, int]:
    """OpenID Connect Back-Channel Logout: the portal tells us a session has ended.

    200 once the session is recorded as ended; 400 with a JSON error for a token that does
    not validate (spec section 2.8); 503 when the portal's keys cannot be fetched, which is
    not the token's fault and worth a retry.
    """
    try:
        claims = validate_logout_token(
            request.form.get("logout_token", ""),
            load_keys=load_portal_keys,
            issuer=current_app.config["PORTAL_URL"],
            client_id=current_app.config["AGENCY_CLIENT_ID"],
        )
    except InvalidLogoutToken as error:
        return json_error("invalid_request", str(error)), 400
    except KeysUnavailable as error:
        current_app.logger.warning("Back-channel logout: no keys from the portal: %s", error)
        return json_error("temporarily_unavailable", "No se pueden obtener las claves."), 503
    current_app.extensions["agency_logouts"].record(sid=claims.get("sid"), sub=claims.get("sub"))
    return Response(status=200), 200


def load_portal_keys(force: bool) -> dict[str, Any]:
    """The portal's JWKS, cached by Authlib; ``force`` refetches it after a key rotation."""
    try:
        provider_metadata()
        return portal_client().fetch_jwk_set(force=force)
    except (ProviderUnavailable, requests.RequestException, RuntimeError, ValueError) as error:
        raise KeysUnavailable(str(error)) from error


def end_session_ended_at_portal() -> None:
    """Clear a browser session that the portal has ended through the back channel."""
    if request.endpoint in {"static", "backchannel_logout"} or "sub" not in session:
        return
    if current_app.extensions["agency_logouts"].has_ended(
        sid=session.get("sid"),
        sub=session.get("sub"),
        signed_in_at=session.get("signed_in_at", 0.0),
    ):
        session.clear()
        flash("Su sesión en la Agencia ha terminado porque se cerró en Portal Ciudadano.")


def add_security_headers(response: Response) -> Response:
    """Keep personal data out of caches and the callback's code out of Referer headers."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    portal_origin = "{0.scheme}://{0.netloc}".format(urlsplit(current_app.config["PORTAL_URL"]))
    # form-action must allow the portal: the logout form ends in a redirect to it.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; form-action 'self' {portal_origin}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def json_error(error: str, description: str) -> Response:
    """An OAuth-style error body, as the back-channel logout specification suggests."""
    return jsonify(error=error, error_description=description)


def sign_in_error_page(error: str, description: str, *, status: int) -> tuple[str, int]:
    """Tell the citizen the sign-in failed and why, and offer to try again."""
    session.pop("requested_acr", None)
    return (
        render_template(
            "error.html",
            error=error,
            description=description,
            explanation=ERROR_EXPLANATIONS.get(error),
        ),
        status,
    )


def unavailable_page(error: Exception) -> tuple[str, int]:
    """The portal is down or misconfigured: say so rather than show a traceback."""
    current_app.logger.warning("Portal Ciudadano unavailable: %s", error)
    return render_template("unavailable.html", portal_url=current_app.config["PORTAL_URL"]), 503


def format_claim_value(name: str, value: Any) -> str:
    """Show a claim readably: dates for timestamps, lists joined, objects as JSON."""
    if name in TIME_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        except (OverflowError, OSError, ValueError):
            return str(value)
        return f"{value} ({moment})"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict | bool) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


if __name__ == "__main__":
    create_app().run(host="localhost", port=int(os.environ.get("AGENCY_PORT", "5001")))
