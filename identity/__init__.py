"""Digital identity: accounts, factors, sessions, security history and the OpenID Connect provider.

Imports only ``portal.extensions`` and ``portal.config`` from the application
(see DESIGN.md); never ``procedures``.
"""
