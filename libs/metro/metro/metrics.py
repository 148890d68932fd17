"""Prometheus metrics shared by every service, exposed at /metrics."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Histogram("http_request_duration_seconds", "HTTP request latency",
                     ["service", "method", "route", "status"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_PUBLISHED = Counter("events_published_total", "Events published by the outbox relay", ["producer"])
OUTBOX_PENDING = Gauge("outbox_pending", "Outbox rows not yet published", ["producer"])
EVENTS_HANDLED = Counter("events_handled_total", "Events handled by consumers", ["queue", "outcome"])
CONSUMER_PAUSED = Gauge("consumer_paused", "1 while a consumer waits for its database to come back", ["queue"])
DSO_CALLS = Counter("dso_calls_total", "Calls to a DSO by outcome", ["dso", "outcome"])
GRANTS_DROPPED = Counter("consent_grants_dropped_total",
                         "consent.granted dropped because the consent had already ended here", ["service"])
