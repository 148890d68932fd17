"""Personal data held by ingest-local: which meter of a local operator belongs to which consent, its indexes."""
from __future__ import annotations

from ingest_local import repository
from ingest_local.models import subscriptions
from metro.personal_data import PersonalTable

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(subscriptions, purpose="know which meters of GreenAlp, CCIAG and Eau de Grenoble the resident "
                  "allowed us to collect from their files, and until when", retention="while the consent lasts",
                  account_column="account_id", meter_column="meter_id"),
]
# indexes are keyed by the operator's identifier, not by account: before_erase deletes the erased meters' own.
# heat_shares and raw_files are not listed: an operator's file holds every consented meter at once; the meter
# leaves the operator's next list, and the kept files age out after raw_retention_days (90 by default) like the
# operator's own archive.


async def before_erase(session, account_id, meter_ids) -> None:
    """The account's consents are remembered as ended (by a hash alone), so that a grant still in flight, or a
    file naming the meter before the operator's next list, cannot collect an erased account's meter again."""
    consents = await repository.subscription_consents(session, account_id, meter_ids)
    await repository.end_consents(session, consents, "erased")
    await repository.forget_indexes(session, account_id, meter_ids)
