"""Personal data held by ingest-enedis: what is collected for which meter (walked by export and erasure)."""
from __future__ import annotations

from ingest_enedis import models, repository
from metro.personal_data import PersonalTable

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(models.raw_payloads, purpose="the DSO's answers as received, to replay a parser fix",
                  retention="raw_retention_days (90 days by default)", meter_column="meter_id",
                  hidden=("body",)),
    PersonalTable(models.collected_ranges, purpose="which days were already collected, to ask only the missing ones",
                  retention="while the consent is active, erased with the account", meter_column="meter_id"),
    PersonalTable(models.cursors, purpose="collection state per meter under consent (usage point, consent period)",
                  retention="while the consent is active, erased with the account", meter_column="meter_id",
                  account_column="account_id"),
    PersonalTable(models.curve_gaps, purpose="load-curve days the DSO kept failing, asked again at each cycle",
                  retention="until served, erased with the account", meter_column="meter_id"),
    PersonalTable(models.curve_collected_ranges, purpose="which load-curve days were already collected",
                  retention="while the consent is active, erased with the account", meter_column="meter_id"),
    PersonalTable(models.curve_cursors, purpose="load-curve collection state per meter (how far back the resident "
                  "asked for it)", retention="while the consent is active, erased with the account",
                  meter_column="meter_id", account_column="account_id"),
    PersonalTable(models.meter_activity, purpose="when the resident last looked at the meter, to collect the active "
                  "ones first under the quota", retention="erased with the account", meter_column="meter_id"),
]


async def before_erase(session, account_id, meter_ids) -> None:
    """The account's consents are remembered as ended (by a hash alone), so that a grant still in flight
    cannot start collecting for an erased account."""
    consents = await repository.store.cursor_consents(session, account_id, meter_ids)
    await repository.store.end_consents(session, consents, "erased")
