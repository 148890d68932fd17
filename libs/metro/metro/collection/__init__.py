"""What every DSO connector's collection shares: its tables, the quota shared by every replica, work
sharing, one policy per outcome, cycle reports and scheduling at the DSO's publication time.

DSO-agnostic: a connector subclasses ``Collector`` with its client calls, which periods to ask, its payloads
and events; this package decides when, how fast, by whom, and what each outcome means, and runs the loop
(``run_collection``). Its modules: ``models`` (the tables), ``repository`` (every statement on them),
``days`` (Europe/Paris days and ranges of them), ``quota`` (the token bucket), ``policy`` (scheduling, one
answer per outcome, one call), ``collector`` (one meter), ``loop`` (the replica's loop), ``grants`` (a consent
that ended here stays ended, also used by ingest-sge), ``settings``.
"""
from metro.collection.collector import Collector, LeaseLost, jsonable_contract
from metro.collection.days import PARIS, Range, covered_until, merge_ranges, missing_ranges
from metro.collection.grants import ended_reason, live_grants
from metro.collection.loop import replica_owner, run_collection, start_collection, stop_collection
from metro.collection.models import (collected_ranges_table, cursors_table, cycles_table,
                                     ended_consents_table, rate_buckets_table, raw_payloads_table)
from metro.collection.policy import CallFailed, CallStats, Policy, call_dso, next_publication
from metro.collection.quota import (DEFAULT_ARRIVAL_JITTER_S, DailyQuotaReached, Reservation, TokenBucket,
                                    reserve)
from metro.collection.repository import (CollectionStore, add_collected, claim_due, close_cycle_if_idle,
                                         collected_ranges, cycle_view, end_consents, open_cycle,
                                         record_in_cycle, release, renew_lease)
from metro.collection.settings import LOCAL_CLIENT_SECRET, CollectionSettings

__all__ = [
    "DEFAULT_ARRIVAL_JITTER_S", "LOCAL_CLIENT_SECRET", "PARIS", "CallFailed", "CallStats",
    "CollectionSettings", "CollectionStore", "Collector", "DailyQuotaReached", "LeaseLost", "Policy", "Range",
    "Reservation", "TokenBucket", "add_collected", "call_dso", "claim_due", "close_cycle_if_idle",
    "collected_ranges", "collected_ranges_table", "covered_until", "cursors_table", "cycle_view",
    "cycles_table", "end_consents", "ended_consents_table", "ended_reason", "jsonable_contract",
    "live_grants", "merge_ranges", "missing_ranges", "next_publication", "open_cycle",
    "rate_buckets_table", "raw_payloads_table", "record_in_cycle", "release", "renew_lease", "replica_owner",
    "reserve", "run_collection", "start_collection", "stop_collection",
]
