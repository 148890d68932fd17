"""What every DSO connector's collection shares: its tables, the quota shared by every replica, work
sharing, one policy per outcome, cycle reports and scheduling at the DSO's publication time.

DSO-agnostic: a connector subclasses ``Collector`` with its client calls, which periods to ask, its payloads
and events; this package decides when, how fast, by whom, and what each outcome means, and runs the loop
(``run_collection``). Its modules: ``models`` (the tables), ``repository`` (every statement on them),
``days`` (Europe/Paris days and ranges of them), ``quota`` (the token bucket), ``policy`` (scheduling, one
answer per outcome, one call), ``collector`` (one meter), ``loop`` (the replica's loop), ``replay`` (kept
answers parsed again and published), ``settings``.
"""
from metro.collection.collector import Collector, LeaseLost, jsonable_contract
from metro.collection.days import PARIS, Range, covered_until, merge_ranges, missing_ranges
from metro.collection.loop import replica_owner, run_collection, start_collection, stop_collection
from metro.collection.models import (collected_ranges_table, cursors_table, cycles_table, rate_buckets_table,
                                     raw_payloads_table)
from metro.collection.policy import CallFailed, CallStats, Policy, call_dso, next_publication
from metro.collection.quota import (DEFAULT_ARRIVAL_JITTER_S, DailyQuotaReached, Reservation, TokenBucket,
                                    reserve)
from metro.collection.replay import (ReplayCounts, ReplayScope, add_replay_arguments, print_counts,
                                     replay_command, replay_raw)
from metro.collection.repository import (CollectionStore, add_collected, claim_due, close_cycle_if_idle,
                                         collected_ranges, cycle_view, open_cycle, record_in_cycle, release,
                                         renew_lease)
from metro.collection.settings import LOCAL_CLIENT_SECRET, CollectionSettings

__all__ = [
    "CallFailed", "CallStats", "CollectionSettings", "CollectionStore", "Collector",
    "DEFAULT_ARRIVAL_JITTER_S", "DailyQuotaReached", "LOCAL_CLIENT_SECRET", "LeaseLost", "PARIS", "Policy",
    "Range", "ReplayCounts", "ReplayScope", "Reservation", "TokenBucket", "add_collected",
    "add_replay_arguments", "call_dso", "claim_due", "close_cycle_if_idle", "collected_ranges",
    "collected_ranges_table", "covered_until", "cursors_table", "cycle_view", "cycles_table",
    "jsonable_contract", "merge_ranges", "missing_ranges", "next_publication", "open_cycle", "print_counts",
    "rate_buckets_table", "raw_payloads_table", "record_in_cycle", "release", "renew_lease", "replay_command",
    "replay_raw", "replica_owner", "reserve", "run_collection", "start_collection", "stop_collection",
]
