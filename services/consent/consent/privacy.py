"""Personal data held by the consent service."""
import sqlalchemy as sa

from consent.models import (access_log, advice_notes, building_dwellings, consent_events, consents, dwellings, meters,
                            org_members, shares)
from metro.personal_data import PersonalTable, Pseudonymised

KEPT = "until the account is deleted"


def _erased_author(table: sa.Table, tag: str) -> dict:
    return {"adviser_name": f"conseiller supprimé / deleted adviser {tag}"}


def _erased_reader(table: sa.Table, tag: str) -> dict:
    """The resident keeps knowing that someone read their data, and in which role, after the reader is erased."""
    adviser, administrator = f"conseiller supprimé / deleted adviser {tag}", \
        f"administrateur supprimé / deleted administrator {tag}"
    return {"reader_name": sa.case((table.c.reader_role == "adviser", adviser), else_=administrator)}


def _unlinked(table: sa.Table, tag: str) -> dict:
    """An erased tenant's dwelling stays the landlord's, linked to nobody."""
    return {"tenant_account_id": None}


PERSONAL_DATA = [
    PersonalTable(advice_notes, "advice an energy adviser wrote to the resident, who reads and may delete it",
                  "until the resident deletes it or the account is deleted; an erased adviser is replaced by a "
                  "pseudonym", account_column=("resident_id", "adviser_id"),
                  pseudonymised=Pseudonymised("adviser_id", _erased_author)),
    PersonalTable(shares, "read access the resident gave an energy adviser: what, until when, and the name and "
                  "contact the adviser sees", KEPT,
                  account_column=("resident_id", "adviser_id")),
    PersonalTable(access_log, "showing the resident who looked at their data",
                  "until the resident's account is deleted; an erased reader is replaced by a pseudonym",
                  account_column=("resident_id", "reader_id"),
                  pseudonymised=Pseudonymised("reader_id", _erased_reader)),
    PersonalTable(consent_events, "proof of every consent given, changed or withdrawn, with the DSO's evidence", KEPT,
                  account_column="account_id"),
    PersonalTable(consents, "the consents that allow collecting a meter's data", KEPT, account_column="account_id",
                  meter_column="meter_id", hidden=("state_hash",)),
    PersonalTable(meters, "the meters the resident declared", KEPT, account_column="account_id"),
    PersonalTable(org_members, "the organisations the account is a member of, and its role in each",
                  "until the account is deleted or leaves the organisation", account_column="account_id"),
    PersonalTable(dwellings, "comparison with similar homes and the check that a meter is the resident's own", KEPT,
                  account_column="account_id"),
    PersonalTable(building_dwellings, "the landlord's dwelling the tenant linked themselves to, to read its monthly "
                  "statements", "until the tenant leaves the dwelling or the account is deleted; the landlord's "
                  "dwelling stays, linked to nobody", account_column="tenant_account_id", hidden=("invite_hash",),
                  pseudonymised=Pseudonymised("tenant_account_id", _unlinked)),
]
