"""The OpenID Connect provider: agencies' sites sign citizens in through the portal.

Authlib's authorization server does the protocol (``server``); the parts it
leaves to us are small modules: keys and JWKS (``keys``), pairwise subjects,
claims and assurance (``claims``), the next step of an authorization
(``authorize``), consent and connected services (``connections``), logout
(``logout``) and client registration (``clients``, ``cli``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from identity.oidc import server, views

    server.init_app(app)
    app.register_blueprint(views.blueprint)
