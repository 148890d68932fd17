"""Every SQL statement of ingest-enedis: its collection tables take the shared statements as they are."""
from __future__ import annotations

from ingest_enedis.models import collected_ranges, cursors, cycles, ended_consents, raw_payloads
from metro.collection import CollectionStore

store = CollectionStore("enedis", cursors=cursors, collected_ranges=collected_ranges, cycles=cycles,
                        raw_payloads=raw_payloads, ended_consents=ended_consents)
report = store.report
