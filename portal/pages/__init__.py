"""The public pages every site of ours has: home, accessibility, privacy, cookies, contact."""

from portal.pages.views import blueprint

__all__ = ["blueprint"]
