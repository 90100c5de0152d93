"""Portal Ciudadano: the Flask application, its layout, the folder and the back office."""

from portal.app import create_app

__all__ = ["create_app"]
