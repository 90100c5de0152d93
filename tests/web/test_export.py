"""Take your data with you: the export holds every row that refers to the citizen, found
here independently by following each foreign key through the data, and nothing of anyone
else's; secrets stay out; and it needs the citizen to have proved who they are recently."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from identity.models import Account, AccountSession, Factor
from portal.extensions import db
from portal.folder import export
from tests.support.citizen import Citizen
from tests.support.everything import give_everything

pytestmark = pytest.mark.database


def _referring_rows(account_id: int) -> dict[str, set[tuple[Any, ...]]]:
    """Every row, in every table, that refers to the account directly or through another
    row that does: computed from the data, not from the export's own walk. What the export
    declares not the owner's (links naming who acted, the back office's working data,
    internal notes) is left out here too."""
    rows = {
        table.name: [dict(row) for row in db.session.execute(select(table)).mappings()]
        for table in db.metadata.sorted_tables
    }
    keys = {
        table.name: [column.name for column in table.primary_key.columns]
        for table in db.metadata.sorted_tables
    }
    found: dict[str, set[tuple[Any, ...]]] = {"accounts": {(account_id,)}}
    changed = True
    while changed:
        changed = False
        for table in db.metadata.sorted_tables:
            if table.name in export.BACK_OFFICE:
                continue
            for row in rows[table.name]:
                key = tuple(row[name] for name in keys[table.name])
                if key in found.get(table.name, set()) or row.get("visible_to_citizen") is False:
                    continue
                for fk in table.foreign_keys:
                    if (table.name, fk.parent.name) in export.ACTING:
                        continue
                    value = row[fk.parent.name]
                    parent = fk.column.table.name
                    if parent != table.name and (value,) in found.get(parent, set()):
                        found.setdefault(table.name, set()).add(key)
                        changed = True
                        break
    return found


def test_the_export_holds_every_row_that_refers_to_the_citizen_and_no_one_elses(
    site, citizen
) -> None:
    other = Citizen(site, site.test_client(), "luis.gomez@example.es")
    give_everything(site, other)
    account_id = give_everything(site, citizen)
    citizen.lang = "en"
    response = citizen.client.get("/en/folder/my-data/export.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    exported = json.loads(response.data)["tables"]
    with site.app_context():
        expected = _referring_rows(account_id)
        for table in db.metadata.sorted_tables:
            keys = [column.name for column in table.primary_key.columns]
            got = {tuple(row[name] for name in keys) for row in exported.get(table.name, [])}
            assert got == expected.get(table.name, set()), table.name
    # The fixture reaches every table the export knows, so none is checked empty.
    assert {name for name, rows in expected.items() if rows} == set(export.TABLES)


def test_every_exported_column_is_labelled_internal_or_withheld_with_a_reason(site) -> None:
    with site.app_context():
        walked = set(export._owner_conditions())
        assert walked == set(export.TABLES)
        for name in export.TABLES:
            for column in db.metadata.tables[name].columns:
                key = (name, column.name)
                if key in export.WITHHELD:
                    continue
                shown = export.DECODED[key][0] if key in export.DECODED else column.name
                assert shown in export.INTERNAL or shown in export.LABELS, key


def test_secrets_stay_out_and_encrypted_data_comes_out_readable(site, citizen) -> None:
    account_id = give_everything(site, citizen)
    text = citizen.client.get("/en/folder/my-data/export.json").get_data(as_text=True)
    with site.app_context():
        account = db.session.get(Account, account_id)
        assert account.password_hash and account.password_hash not in text
        secret = db.session.scalar(
            select(Factor.totp_secret_encrypted).where(Factor.account_id == account_id)
        )
        assert secret and secret not in text
    document = json.loads(text)
    assert "accounts.password_hash" in document["withheld"]
    phone = [row for row in document["tables"]["citizen_attributes"] if row["name"] == "phone"]
    assert phone[0]["value"] == "600 123 456"
    assert all("answers" in row for row in document["tables"]["applications"])


def test_the_readable_page_and_file_need_a_recent_sign_in(site, citizen) -> None:
    give_everything(site, citizen)
    page = citizen.text("/en/folder/my-data/export")
    assert "Take your data with you" in page and "Your applications (5)" in page
    download = citizen.client.get("/en/folder/my-data/export.html")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert '<html lang="en"' in download.get_data(as_text=True)
    with site.app_context():
        for row in db.session.scalars(select(AccountSession)):
            row.authenticated_at -= timedelta(minutes=16)
        db.session.commit()
    for path in ("export", "export.json", "export.html"):
        response = citizen.client.get(f"/en/folder/my-data/{path}")
        assert response.status_code == 302
        assert "/en/account/reauthenticate" in response.headers["Location"]
