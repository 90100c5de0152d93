"""Sign-in helpers: where "next" may lead, how a device is named, what a sign-in proved."""

from __future__ import annotations

import pytest

from identity.devices import describe
from identity.factors import assurance
from identity.models import Factor, FactorKind
from identity.signin import safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/es/account/history", "/es/account/history"),
        ("/es/account/history?page=2", "/es/account/history?page=2"),
        (None, None),
        ("", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("/es/\x00", None),
        ("es/account", None),
    ],
)
def test_next_only_leads_to_a_path_on_this_site(target, expected) -> None:
    assert safe_next(target) == expected


LINUX_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
WINDOWS_EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64) Chrome/130.0 Safari/537.36 Edg/130.0"
IPHONE_SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1"
ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0"


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            LINUX_CHROME,
            "Chrome on Linux",
        ),
        (
            WINDOWS_EDGE,
            "Edge on Windows",
        ),
        (
            IPHONE_SAFARI,
            "Safari on iPhone",
        ),
        (
            ANDROID_FIREFOX,
            "Firefox on Android",
        ),
        ("curl/8.0", "Unknown device"),
        (None, "Unknown device"),
    ],
)
def test_devices_are_named_as_people_know_them(app, user_agent, expected) -> None:
    with app.test_request_context("/en/"):
        from flask import g

        g.lang = "en"
        assert describe(user_agent) == expected


def test_what_each_way_of_signing_in_proves() -> None:
    app_code = Factor(kind=FactorKind.TOTP)
    synced_passkey = Factor(kind=FactorKind.PASSKEY, backup_eligible=True)
    hardware_key = Factor(kind=FactorKind.SECURITY_KEY, backup_eligible=False)
    assert assurance(app_code, with_password=True).amr == ["mfa", "otp", "pwd"]
    assert assurance(synced_passkey, with_password=False).aal == 2
    assert assurance(synced_passkey, with_password=False).amr == ["mfa", "swk", "user"]
    assert assurance(hardware_key, with_password=True).aal == 3
    assert assurance(hardware_key, with_password=True).amr == ["hwk", "mfa", "pwd"]
    assert assurance(None, with_password=True).aal == 2  # a recovery code
