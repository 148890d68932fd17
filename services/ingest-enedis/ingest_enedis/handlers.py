"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors."""
from __future__ import annotations

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.collection import consent_handlers

HANDLERS = {"consents": consent_handlers("ingest_enedis", CHANNEL, repository.store)}
