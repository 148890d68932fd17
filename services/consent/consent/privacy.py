"""Personal data held by the consent service."""
from consent.models import access_log, consent_events, consents, dwellings, meters, shares
from metro.personal_data import PersonalTable

KEPT = "until the account is deleted"
PERSONAL_DATA = [
    PersonalTable(shares, "read access the resident gave an energy adviser", KEPT,
                  account_column=("resident_id", "adviser_id")),
    PersonalTable(access_log, "showing the resident who looked at their data", KEPT,
                  account_column=("resident_id", "reader_id")),
    PersonalTable(consent_events, "proof of every consent given, changed or withdrawn, with the DSO's evidence", KEPT,
                  account_column="account_id"),
    PersonalTable(consents, "the consents that allow collecting a meter's data", KEPT, account_column="account_id",
                  meter_column="meter_id", hidden=("state_hash",)),
    PersonalTable(meters, "the meters the resident declared", KEPT, account_column="account_id"),
    PersonalTable(dwellings, "comparison with similar homes and the check that a meter is the resident's own", KEPT,
                  account_column="account_id"),
]
