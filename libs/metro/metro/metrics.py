"""Prometheus metrics shared by every service, served on the service's metrics port (metro.observe).

Counters count as things happen; gauges are read from the database, the broker and the pool by each service's
probes (``ServiceSpec.probes`` and the shared ones in metro.observe) every ``metrics_interval_s``."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Histogram("http_request_duration_seconds", "HTTP request latency",
                     ["service", "method", "route", "status"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_PUBLISHED = Counter("events_published_total", "Events published by the outbox relay", ["producer"])
OUTBOX_PENDING = Gauge("outbox_pending", "Outbox rows not yet published", ["producer"])
OUTBOX_LAG = Gauge("outbox_oldest_unpublished_age_seconds",
                   "Age of the oldest outbox row not yet published (0 when none waits)", ["producer"])
EVENTS_HANDLED = Counter("events_handled_total", "Events handled by consumers", ["queue", "outcome"])
DLQ_DEPTH = Gauge("dlq_messages", "Messages waiting in a dead-letter queue", ["queue"])
CONSUMER_PAUSED = Gauge("consumer_paused", "1 while a consumer waits for its database to come back", ["queue"])
DSO_CALLS = Counter("dso_calls_total", "Calls to a DSO by outcome", ["dso", "outcome"])
DSO_LAST_SUCCESS = Gauge("dso_last_successful_cycle_timestamp_seconds",
                         "When the DSO's last cycle with a successful call finished (Unix time)", ["dso"])
COLLECTION_FAILING = Gauge("collection_meters_failing",
                           "Active meters whose last collection failed, by outcome", ["dso", "outcome"])
COLLECTION_CYCLES = Counter("collection_cycles_total", "Collection cycles by outcome", ["dso", "outcome"])
QUOTA_USED = Gauge("dso_quota_used", "Calls counted against the DSO quota in the current window",
                   ["dso", "window"])
QUOTA_LIMIT = Gauge("dso_quota_limit", "The DSO quota of the window (absent: no such quota)",
                    ["dso", "window"])
DATA_LAG = Gauge("data_newest_day_age_days",
                 "Days between today (Europe/Paris) and the newest stored reading", ["channel"])
PRICING_BACKLOG = Gauge("pricing_backlog_meters", "Meters waiting for the pricing worker")
PRICING_BACKLOG_AGE = Gauge("pricing_backlog_oldest_age_seconds",
                            "How long the oldest meter has waited for the pricing worker (0 when none)")
MAIL_FAILURES = Counter("mail_send_failures_total",
                        "E-mails not sent on an attempt: retry (4xx), failed (5xx or no attempt left), "
                        "unavailable (no relay)",
                        ["outcome"])
DB_POOL_CHECKED_OUT = Gauge("db_pool_checked_out", "Database connections in use", ["service"])
DB_POOL_CAPACITY = Gauge("db_pool_capacity", "Database connections the pool may open (size + overflow)",
                         ["service"])
GRANTS_DROPPED = Counter("consent_grants_dropped_total",
                         "consent.granted dropped because the consent had already ended here", ["service"])
