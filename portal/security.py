"""Security headers on every response (MDN HTTP Observatory A+, OWASP ASVS 5.0 V3.4).

No inline script or style is ever needed: every script and stylesheet is a file
under ``/static``, so the policy can stay ``'self'`` without nonces. Later
pages that must post to another origin (the OIDC consent redirect) widen
``form-action`` for that response only.
"""

from __future__ import annotations

from flask import Flask, Response, request


def policy(form_action: list[str] | None = None) -> str:
    """The site's policy; ``form_action`` adds origins this page's forms may lead to."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "manifest-src 'self'",
            " ".join(("form-action 'self'", *(form_action or []))),
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )


CONTENT_SECURITY_POLICY = policy()

#: Powerful features the portal never uses; WebAuthn's are left at their default.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

HSTS = "max-age=63072000; includeSubDomains"  # two years, per the HSTS preload rules

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    # Old browsers that ignore frame-ancestors still honour this.
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # Pages can show personal data: never keep them in shared caches.
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
