"""The coarse segments an application keeps for the agency's figures: an age band and a
postcode district, taken from the citizen's record when they submit.

Coarse on purpose: the figures need to know whether older people or one part of town wait
longer, never who. So the application keeps "45-64", not a birth date, and "28013", not
an address; and the figures hide any cell that counts fewer than five people
(``portal.backoffice.figures``). The record is read by columns, not loaded as rows, so
submitting at a counter (inside the audited back office) reads no more than these two.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlalchemy import select

from identity import encryption
from identity.models import CitizenAttribute
from portal.extensions import db

#: (key, lowest age in the band), youngest first; a band runs up to the next one's age.
AGE_BANDS = (("0-17", 0), ("18-29", 18), ("30-44", 30), ("45-64", 45), ("65+", 65))
#: A Spanish postcode is the postal district (its first two digits are the province).
POSTCODE = re.compile(r"^[0-9]{5}$")


def age_band(birth_date: date, on: date) -> str | None:
    """The band of someone born on ``birth_date`` on the day ``on``; None for a birth date
    in the future (a mistake in the record, not a band)."""
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if age < 0:
        return None
    return [key for key, lowest in AGE_BANDS if age >= lowest][-1]


def district(address: Any) -> str | None:
    """The postcode of a record's address, when it is a Spanish one."""
    postcode = str(address.get("postcode") or "").strip() if isinstance(address, dict) else ""
    return postcode if POSTCODE.match(postcode) else None


def at_submission(account_id: int | None, on: date) -> tuple[str | None, str | None]:
    """(age band, district) of the account's citizen on the day ``on``, from their record;
    None for what the record does not hold (or holds in a form we cannot read)."""
    if account_id is None:
        return None, None
    held = {
        name: json.loads(encryption.decrypt(value))
        for name, value in db.session.execute(
            select(CitizenAttribute.name, CitizenAttribute.value_encrypted).where(
                CitizenAttribute.account_id == account_id,
                CitizenAttribute.name.in_(("birth_date", "address")),
            )
        )
    }
    return _band_of(held.get("birth_date"), on), district(held.get("address"))


def _band_of(birth_date: Any, on: date) -> str | None:
    try:
        return age_band(date.fromisoformat(str(birth_date)), on)
    except ValueError:  # not held (None), or not a date
        return None
