"""What a size means for the scale benchmark: ``Shape(applications)`` fixes the rest.

One citizen per ten applications (100,000 citizens for 1,000,000 applications), three
years of history, and the distributions a municipal portal sees: most citizens have a few
applications (seven in ten applications go to anyone), some have many (three in ten go to
a tenth of the citizens: about 35 each), and one "heavy" citizen has ``HEAVY`` of them at
every size, so their pages compare across sizes. Procedures are weighted as a council's
are, the City Council running six in ten of the cases.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAVY = 300
YEARS = 3
CASEWORKERS = 8
#: Accounts' languages, as often as each is chosen.
LANGUAGES = ("es", "es", "es", "es", "es", "es", "ca", "gl", "eu", "en", "ar")
#: Share of each procedure's applications, in percent (the one without a form has none).
WEIGHTS = {
    "change-of-address": 16,
    "bulky-waste-collection": 12,
    "tax-clearance-certificate": 12,
    "civil-registry-certificate": 10,
    "residents-parking-permit": 8,
    "sports-centre-membership": 8,
    "school-grant": 8,
    "complaint-or-suggestion": 7,
    "general-application": 6,
    "child-birth-benefit": 4,
    "business-opening-notice": 3,
    "accessibility-parking-card": 3,
    "emergency-social-grant": 3,
}
UNITS = {"city-council": ("Atención Ciudadana", "Padrón", "Parques", "Limpieza")}


@dataclass(frozen=True)
class Shape:
    applications: int

    @property
    def citizens(self) -> int:
        return max(100, self.applications // 10)

    @property
    def frequent(self) -> int:
        """The first tenth of the citizens, who share three applications in ten."""
        return max(1, self.citizens // 10)
