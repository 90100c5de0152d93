"""Topics and life events: the fixed vocabulary the catalogue is browsed by.

They are part of the interface, not of any one agency's content, so their names are
gettext strings; definitions refer to them by key (``procedures/definitions/README.md``).
The order here is the order on the catalogue page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TOPICS = {
    "family": _l("Family"),
    "housing": _l("Housing"),
    "education": _l("Education"),
    "employment": _l("Work and unemployment"),
    "social-care": _l("Social care and benefits"),
    "health": _l("Health"),
    "transport": _l("Transport and parking"),
    "environment": _l("Environment and waste"),
    "taxes": _l("Taxes and fees"),
    "culture-and-sport": _l("Culture and sport"),
    "business": _l("Business"),
    "participation": _l("Complaints, requests and participation"),
    "certificates": _l("Certificates and registers"),
}

LIFE_EVENTS = {
    "having-a-child": _l("Having a child"),
    "moving-house": _l("Moving house"),
    "starting-school": _l("Starting school"),
    "losing-a-job": _l("Losing your job"),
    "retiring": _l("Retiring"),
    "death-in-the-family": _l("A death in the family"),
    "starting-a-business": _l("Starting a business"),
    "living-with-a-disability": _l("Living with a disability"),
}
