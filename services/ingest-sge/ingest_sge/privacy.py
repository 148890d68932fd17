"""Personal data held by ingest-sge: which PRM belongs to which meter and consent, and its last index."""
from __future__ import annotations

from ingest_sge import repository
from ingest_sge.models import index_state, subscriptions
from metro.personal_data import PersonalTable

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(subscriptions, purpose="know which usage points (PRM) the resident allowed us to collect "
                  "from the SGE files, and until when", retention="while the consent lasts",
                  account_column="account_id", meter_column="meter_id"),
    PersonalTable(index_state, purpose="the last meter index of the usage point, to turn the next daily "
                  "index into the day's consumption", retention="while the consent lasts",
                  meter_column="meter_id"),
]
# raw_files is not listed: one file holds every subscribed PRM of a publication, so it cannot be split by
# account; it ages out after raw_retention_days (90 by default) like the DSO's own archive.


async def before_erase(session, account_id, meter_ids) -> None:
    """The account's consents are remembered as ended (by a hash alone), so that a grant still in flight
    cannot subscribe an erased account's PRM again."""
    consents = await repository.subscription_consents(session, account_id, meter_ids)
    await repository.end_consents(session, consents, "erased")
