"""What every DSO connector's collection shares: its tables, the quota shared by every replica, work
sharing, one policy per outcome, cycle reports and scheduling at the DSO's publication time.

DSO-agnostic: a connector subclasses ``Collector`` with its client calls, which periods to ask, its payloads
and events; this package decides when, how fast, by whom, and what each outcome means, and runs the loop
(``run_collection``). Its modules: ``models`` (the tables), ``repository`` (every statement on them),
``days`` (Europe/Paris days and ranges of them), ``quota`` (the token bucket), ``policy`` (scheduling, one
answer per outcome, one call), ``collector`` (one meter), ``loop`` (the replica's loop), ``handlers`` (the
consents it follows), ``grants`` (a consent that ended here stays ended, also used by ingest-sge), ``admin``
(what the administration routes answer), ``status`` (each meter's freshness), ``replay`` (kept answers parsed
again and published), ``settings``.
"""
from metro.collection.admin import collections_view, run_now
from metro.collection.collector import Answer, Collector, LeaseLost, jsonable_contract, served_ranges
from metro.collection.days import PARIS, Range, covered_until, merge_ranges, missing_ranges
from metro.collection.grants import ended_reason, live_grants
from metro.collection.handlers import consent_handlers
from metro.collection.loop import replica_owner, run_collection, start_collection, stop_collection
from metro.collection.models import (CollectionTables, collected_ranges_table, collection_tables, cursors_table,
                                     cycles_table, ended_consents_table, gaps_table, rate_buckets_table,
                                     raw_payloads_table)
from metro.collection.policy import CallFailed, CallStats, Policy, call_dso, next_publication
from metro.collection.probes import collection_probe
from metro.collection.quota import (DEFAULT_ARRIVAL_JITTER_S, DailyQuotaReached, Reservation, SpareBucket,
                                    TokenBucket, reserve)
from metro.collection.replay import (ReplayCounts, ReplayScope, add_replay_arguments, print_counts,
                                     replay_command, replay_raw)
from metro.collection.repository import (CollectionStore, add_collected, claim_due, clear_gaps,
                                         close_cycle_if_idle, collected_ranges, cycle_view, end_consents,
                                         open_cycle, record_gap, record_in_cycle, release, renew_lease)
from metro.collection.settings import LOCAL_CLIENT_SECRET, CollectionSettings
from metro.collection.status import MAX_METERS, collection_statuses, freshness_counts

__all__ = [
    "DEFAULT_ARRIVAL_JITTER_S", "LOCAL_CLIENT_SECRET", "MAX_METERS", "PARIS", "Answer", "CallFailed",
    "CallStats", "CollectionSettings", "CollectionStore", "CollectionTables", "Collector",
    "DailyQuotaReached", "LeaseLost", "Policy", "Range", "ReplayCounts", "ReplayScope", "Reservation",
    "SpareBucket", "TokenBucket", "add_collected", "add_replay_arguments", "call_dso", "claim_due", "clear_gaps",
    "close_cycle_if_idle", "collected_ranges", "collected_ranges_table", "collection_probe",
    "collection_statuses",
    "freshness_counts",
    "collection_tables", "collections_view", "consent_handlers", "covered_until", "cursors_table",
    "cycle_view", "cycles_table", "end_consents", "ended_consents_table", "ended_reason", "gaps_table",
    "jsonable_contract", "live_grants", "merge_ranges", "missing_ranges", "next_publication", "open_cycle",
    "print_counts", "rate_buckets_table", "raw_payloads_table", "record_gap", "record_in_cycle", "release",
    "renew_lease", "replay_command", "replay_raw", "replica_owner", "reserve", "run_collection", "run_now",
    "served_ranges", "start_collection", "stop_collection",
]
