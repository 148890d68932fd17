"""Personal data held by ingest-grdf: the declared holders and what is collected for which PCE (walked by
export and erasure)."""
from __future__ import annotations

from ingest_grdf import models, repository
from metro.personal_data import PersonalTable

PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(models.access_rights, purpose="the access right declared at GRDF for the consent: PCE, holder's "
                  "name, postal code and e-mail as GRDF requires them, and GRDF's state of the right",
                  retention="while the consent lives, erased with the account", meter_column="meter_id"),
    PersonalTable(models.raw_payloads, purpose="GRDF's answers as received, to replay a parser fix",
                  retention="raw_retention_days (90 days by default)", meter_column="meter_id",
                  hidden=("body",)),
    PersonalTable(models.collected_ranges, purpose="which gas days were already collected, to ask only the "
                  "missing ones", retention="while the consent is active, erased with the account",
                  meter_column="meter_id"),
    PersonalTable(models.gaps, purpose="gas days GRDF kept failing to serve, with its reason, to ask again",
                  retention="until GRDF serves them, erased with the account", meter_column="meter_id"),
    PersonalTable(models.cursors, purpose="collection state per PCE under consent (PCE, consent period, "
                  "contract data)", retention="while the consent is active, erased with the account",
                  meter_column="meter_id", account_column="account_id"),
]


async def before_erase(session, account_id, meter_ids) -> None:
    """The account's rights still live at GRDF are queued for revocation before their rows are erased: the
    deletion may reach us before the consent's revocation does, or while GRDF cannot take the PATCH. The
    account's consents are remembered as ended (by a hash alone): a grant still in flight starts nothing."""
    await repository.queue_revocations(session, await repository.live_access_rights(session, meter_ids))
    consents = await repository.store.cursor_consents(session, account_id, meter_ids)
    await repository.store.end_consents(session, consents, "erased")
